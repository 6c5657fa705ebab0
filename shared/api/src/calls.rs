//! `GET /api/calls` (a tenant's calls, newest first, a page at a time) and
//! `GET /api/calls/{callSid}` (one call and its events). Every listing is a
//! query of one of the tenant's indexes, never a scan.

use crate::principal::Principal;
use crate::problem::Problem;
use calltrack_core::ports::ReadCalls;
use calltrack_core::view::{CallQuery, CallSummary, CallView, Cursor, Scope};
use calltrack_twilio::Params;
use calltrack_twilio::fields::{CallSid, Field};
use serde::Serialize;

/// Calls a page holds unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// The parameters `GET /api/calls` takes.
pub const LIST_PARAMETERS: &[&str] = &["limit", "cursor", "userId", "qualified", "since", "until"];

/// A page of calls, and where the next one starts (`null`: this is the last).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallList {
    pub calls: Vec<CallSummary>,
    pub next_cursor: Option<String>,
}

/// The query a listing's parameters ask for, within the principal's tenant.
pub fn list_query(principal: &Principal, query: &str) -> Result<CallQuery, Problem> {
    let params = Params::from_form(query.as_bytes()).map_err(|e| Problem::invalid("query", e.to_string()))?;
    let mut listing = CallQuery { limit: Some(DEFAULT_LIMIT), ..CallQuery::tenant(principal.tenant.clone()) };
    let mut seen = Vec::new();
    for (name, value) in params.iter() {
        if seen.contains(&name) {
            return Err(Problem::invalid(name, "is given more than once"));
        }
        seen.push(name);
        match name {
            "limit" => {
                let limit = u32::parse(name, value)?;
                if !(1..=MAX_LIMIT).contains(&limit) {
                    return Err(Problem::invalid(name, format!("must be 1 to {MAX_LIMIT}, not {limit}")));
                }
                listing.limit = Some(limit);
            }
            "cursor" => listing.cursor = Some(Cursor::parse(name, value)?),
            "userId" if value.trim().is_empty() => return Err(Problem::invalid(name, "is empty")),
            "userId" => listing.user_id = Some(value.to_owned()),
            "qualified" if value == "true" => listing.qualified_only = true,
            "qualified" => {
                return Err(Problem::invalid(name, format!("must be true (other calls are listed with the rest), not {value:?}")));
            }
            "since" => listing.since = Some(parse_instant(name, value)?),
            "until" => listing.until = Some(parse_instant(name, value)?),
            _ => return Err(Problem::invalid(name, format!("is not a parameter of this listing ({})", LIST_PARAMETERS.join(", ")))),
        }
    }
    if let (Some(since), Some(until)) = (listing.since, listing.until)
        && since > until
    {
        return Err(Problem::invalid("until", "is before since"));
    }
    // A cursor continues the listing it came from: its call started within the range.
    if let Some(cursor) = listing.cursor
        && (listing.since.is_some_and(|since| cursor.started_at < since) || listing.until.is_some_and(|until| cursor.started_at > until))
    {
        return Err(Problem::invalid("cursor", "is outside since and until: it continues a listing of other dates"));
    }
    Ok(listing)
}

pub async fn list<S: ReadCalls>(store: &S, principal: &Principal, query: &str) -> Result<CallList, Problem> {
    let listing = list_query(principal, query)?;
    let page = store.calls(&listing).await?;
    Ok(CallList { calls: page.items, next_cursor: page.next_cursor.map(|c| c.to_string()) })
}

/// One call of the principal's tenant; any other call, or none, is a 404 alike.
pub async fn get<S: ReadCalls>(store: &S, principal: &Principal, call_sid: &str) -> Result<CallView, Problem> {
    let sid = CallSid::parse("callSid", call_sid)?;
    let scope = Scope::Tenant(principal.tenant.clone());
    store.call(&scope, &sid).await?.ok_or_else(|| Problem::not_found(format!("no call {sid}")))
}

/// `2026-11-21` (midnight UTC) or an RFC 3339 time (`2026-11-21T09:00:00Z`),
/// as ms since the epoch.
pub fn parse_instant(field: &str, text: &str) -> Result<i64, calltrack_twilio::Error> {
    if let Ok(at) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok((at.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let day = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        calltrack_twilio::Error::invalid(field, format!("is not a date: {text:?} (use 2026-11-21 or 2026-11-21T09:00:00Z)"))
    })?;
    Ok(day.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Role;
    use calltrack_core::view::TenantId;

    fn principal() -> Principal {
        Principal { tenant: TenantId::parse("tenant", "acme").unwrap(), user_id: "jane".into(), role: Role::Member }
    }

    #[test]
    fn a_listing_reads_each_parameter_within_the_tokens_tenant() {
        let sid = "CA0123456789abcdef0123456789abcdef";
        let query = list_query(
            &principal(),
            &format!("limit=10&cursor=1795250000000.{sid}&userId=bob&qualified=true&since=2026-11-21&until=2026-11-22T00%3A00%3A00Z"),
        )
        .unwrap();
        assert_eq!(query.tenant.as_str(), "acme");
        assert_eq!((query.limit, query.user_id.as_deref(), query.qualified_only), (Some(10), Some("bob"), true));
        assert_eq!(query.cursor.map(|c| c.to_string()), Some(format!("1795250000000.{sid}")));
        assert_eq!((query.since, query.until), (Some(1_795_219_200_000), Some(1_795_305_600_000)));
        let defaults = list_query(&principal(), "").unwrap();
        assert_eq!((defaults.limit, defaults.cursor, defaults.since), (Some(DEFAULT_LIMIT), None, None));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (query, name, reason) in [
            ("limit=0", "limit", "must be 1 to 100, not 0"),
            ("limit=101", "limit", "must be 1 to 100, not 101"),
            ("limit=x", "limit", "is not a whole number"),
            ("cursor=abc", "cursor", "is not a cursor a listing returned"),
            ("userId=", "userId", "is empty"),
            ("qualified=false", "qualified", "must be true"),
            ("since=yesterday", "since", "is not a date"),
            ("since=2026-11-22&until=2026-11-21", "until", "is before since"),
            ("limit=1&limit=2", "limit", "is given more than once"),
            ("cursor=1764000000000.CA0123456789abcdef0123456789abcdef&since=2026-11-22", "cursor", "is outside since and until"),
            ("cursor=1764000000000.CA0123456789abcdef0123456789abcdef&until=2025-11-22", "cursor", "is outside since and until"),
            ("tenantId=other", "tenantId", "is not a parameter of this listing (limit, cursor, userId, qualified, since, until)"),
            ("limit=%zz", "limit", "is not a whole number"),
        ] {
            let problem = list_query(&principal(), query).unwrap_err();
            assert_eq!(problem.status, 400, "{query}");
            assert_eq!(problem.invalid_params[0].name, name, "{query}");
            assert!(problem.invalid_params[0].reason.starts_with(reason), "{query}: {}", problem.invalid_params[0].reason);
        }
    }
}
