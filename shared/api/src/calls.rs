//! `GET /api/calls` (a tenant's calls, newest first, a page at a time),
//! `GET /api/calls/{callSid}` (one call and its events) and
//! `PATCH /api/calls/{callSid}` (a person's verdict on it). Every listing is a
//! query of one of the tenant's keys, never a scan.

use crate::principal::Principal;
use crate::problem::Problem;
use calltrack_core::call_index::Filter;
use calltrack_core::disposition::{Change, DispositionChange, LeadStatus, MAX_NOTE_CHARS, MAX_TAG_CHARS, MAX_TAGS};
use calltrack_core::ports::{DisposeCalls, ReadCalls};
use calltrack_core::view::{CallQuery, CallSummary, CallView, Cursor, Scope};
use calltrack_twilio::Params;
use calltrack_twilio::fields::{CallSid, Field};
use calltrack_twilio::fields::{Direction, PhoneNumber};
use serde::Serialize;

/// Calls a page holds unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// The parameters `GET /api/calls` takes beside its filters ([`Filter::ALL`]).
pub const PAGE_PARAMETERS: &[&str] = &["limit", "cursor", "userId", "qualified", "since", "until"];

/// Every parameter `GET /api/calls` takes: the page's, then each filter's.
pub fn list_parameters() -> Vec<&'static str> {
    PAGE_PARAMETERS.iter().copied().chain(Filter::ALL.map(Filter::name)).collect()
}

/// A page of calls, and where the next one starts (`null`: this is the last).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallList {
    pub calls: Vec<CallSummary>,
    pub next_cursor: Option<String>,
}

/// A query string's parameters, each given once at most.
pub fn distinct_params(query: &str) -> Result<Params, Problem> {
    let params = Params::from_form(query.as_bytes()).map_err(|e| Problem::invalid("query", e.to_string()))?;
    let mut seen = Vec::new();
    for (name, _) in params.iter() {
        if seen.contains(&name) {
            return Err(Problem::invalid(name, "is given more than once"));
        }
        seen.push(name);
    }
    Ok(params)
}

/// The query a listing's parameters ask for, within the principal's tenant.
pub fn list_query(principal: &Principal, query: &str) -> Result<CallQuery, Problem> {
    let params = distinct_params(query)?;
    let mut listing = CallQuery { limit: Some(DEFAULT_LIMIT), ..CallQuery::tenant(principal.tenant.clone()) };
    for (name, value) in params.iter() {
        if let Some(filter) = Filter::ALL.into_iter().find(|f| f.name() == name) {
            listing.filters.push((filter, filter_value(filter, value)?));
            continue;
        }
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
            _ => return Err(Problem::invalid(name, format!("is not a parameter of this listing ({})", list_parameters().join(", ")))),
        }
    }
    // No call started before 1970.
    listing.since = listing.since.map(|since| since.max(0));
    // A cursor after the range continues nothing in it: the listing starts at its top.
    if listing.cursor.is_some_and(|cursor| listing.until.is_some_and(|until| cursor.started_at > until)) {
        listing.cursor = None;
    }
    Ok(listing)
}

/// A filter's value as its listing's key has it: a number in E.164, a
/// status as spelled, any other text as given.
fn filter_value(filter: Filter, value: &str) -> Result<String, Problem> {
    let name = filter.name();
    if value.trim().is_empty() {
        return Err(Problem::invalid(name, "is empty"));
    }
    Ok(match filter {
        Filter::TrackingNumber | Filter::Caller => PhoneNumber::e164(name, value)?.as_str().to_owned(),
        Filter::Answered | Filter::FirstTimeCaller if !matches!(value, "true" | "false") => {
            return Err(Problem::invalid(name, format!("must be true or false, not {value:?}")));
        }
        Filter::Direction => Direction::parse(name, value)?.as_str().to_owned(),
        Filter::LeadStatus => LeadStatus::parse(name, value)?.as_str().to_owned(),
        _ => value.to_owned(),
    })
}

/// Whether a listing can hold no call: it ends before 1970 or before it
/// starts, or its cursor is past its start (a listing newest first has
/// nothing after that).
fn is_empty(listing: &CallQuery) -> bool {
    listing.until.is_some_and(|until| until < 0 || listing.since.is_some_and(|since| until < since))
        || listing.cursor.is_some_and(|cursor| listing.since.is_some_and(|since| cursor.started_at < since))
}

pub async fn list<S: ReadCalls>(store: &S, principal: &Principal, query: &str) -> Result<CallList, Problem> {
    let listing = list_query(principal, query)?;
    if is_empty(&listing) {
        return Ok(CallList { calls: Vec::new(), next_cursor: None });
    }
    let page = store.calls(&listing).await?;
    Ok(CallList { calls: page.items, next_cursor: page.next_cursor.map(|c| c.to_string()) })
}

/// One call of the principal's tenant; any other call, or none, is a 404 alike.
pub async fn get<S: ReadCalls>(store: &S, principal: &Principal, call_sid: &str) -> Result<CallView, Problem> {
    let sid = CallSid::parse("callSid", call_sid)?;
    let scope = Scope::Tenant(principal.tenant.clone());
    store.call(&scope, &sid).await?.ok_or_else(|| Problem::not_found(format!("no call {sid}")))
}

/// A call after a person's change of its disposition: the listing's row and who changed what.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disposed {
    #[serde(flatten)]
    pub call: CallSummary,
    pub disposition_history: Vec<Change>,
}

/// The fields `PATCH /api/calls/{callSid}` takes.
pub const PATCH_FIELDS: &[&str] = &["leadStatus", "tags", "note", "value"];

/// What a `PATCH` body asks to change: each field present is set, `null` clears it.
pub fn disposition_change(body: &[u8]) -> Result<DispositionChange, Problem> {
    let body: serde_json::Value = serde_json::from_slice(body).map_err(|e| Problem::invalid("body", format!("is not JSON: {e}")))?;
    let fields = body.as_object().ok_or_else(|| Problem::invalid("body", "must be a JSON object"))?;
    let mut change = DispositionChange::default();
    for (name, value) in fields {
        let invalid = |reason: String| Problem::invalid(name, reason);
        match (name.as_str(), value) {
            ("leadStatus", serde_json::Value::Null) => change.lead_status = Some(None),
            ("leadStatus", serde_json::Value::String(status)) => change.lead_status = Some(Some(LeadStatus::parse(name, status)?)),
            ("tags", serde_json::Value::Null) => change.tags = Some(Default::default()),
            ("tags", serde_json::Value::Array(tags)) => {
                let tags: Vec<&str> = tags
                    .iter()
                    .map(|t| t.as_str().ok_or_else(|| invalid("must be an array of strings".into())))
                    .collect::<Result<_, _>>()?;
                if tags.len() > MAX_TAGS {
                    return Err(invalid(format!("has {} tags; at most {MAX_TAGS}", tags.len())));
                }
                if let Some(bad) =
                    tags.iter().find(|t| t.trim().is_empty() || t.chars().count() > MAX_TAG_CHARS || t.chars().any(char::is_control))
                {
                    return Err(invalid(format!("holds {bad:?}: each tag is 1 to {MAX_TAG_CHARS} printable characters")));
                }
                change.tags = Some(tags.into_iter().map(|t| t.trim().to_owned()).collect());
            }
            ("note", serde_json::Value::Null) => change.note = Some(None),
            ("note", serde_json::Value::String(note)) if note.chars().count() > MAX_NOTE_CHARS => {
                return Err(invalid(format!("is {} characters; at most {MAX_NOTE_CHARS}", note.chars().count())));
            }
            ("note", serde_json::Value::String(note)) => change.note = Some(Some(note.clone()).filter(|n| !n.trim().is_empty())),
            ("value", serde_json::Value::Null) => change.value_cents = Some(None),
            ("value", serde_json::Value::Number(amount)) => change.value_cents = Some(Some(cents(name, amount)?)),
            ("leadStatus" | "note", _) => return Err(invalid("must be a string or null".into())),
            ("tags", _) => return Err(invalid("must be an array of strings".into())),
            ("value", _) => return Err(invalid("must be a number or null".into())),
            _ => return Err(invalid(format!("is not a field of a call's disposition ({})", PATCH_FIELDS.join(", ")))),
        }
    }
    // `{}` changes nothing, as a merge patch: the call comes back as it is.
    Ok(change)
}

/// An amount of at most two decimals, 0 to 1 000 000 000, in cents.
fn cents(field: &str, amount: &serde_json::Number) -> Result<i64, Problem> {
    let invalid = || Problem::invalid(field, format!("must be an amount from 0 to 1000000000 with at most two decimals, not {amount}"));
    let value = amount.as_f64().filter(|v| (0.0..=1e9).contains(v)).ok_or_else(invalid)?;
    let cents = (value * 100.0).round();
    if ((cents / 100.0) - value).abs() > 1e-9 {
        return Err(invalid());
    }
    Ok(cents as i64)
}

/// A person's verdict on one of the principal's tenant's calls, by that person.
pub async fn dispose<S: DisposeCalls>(store: &S, principal: &Principal, call_sid: &str, body: &[u8]) -> Result<Disposed, Problem> {
    let sid = CallSid::parse("callSid", call_sid)?;
    let change = disposition_change(body)?;
    let call = store
        .dispose(&principal.tenant, &sid, &change, &principal.user_id, calltrack_service::app::now_ms())
        .await?
        .ok_or_else(|| Problem::not_found(format!("no call {sid}")))?;
    let disposition_history = call.disposition.as_ref().map(|d| d.history.clone()).unwrap_or_default();
    Ok(Disposed { call: CallSummary::from(&call), disposition_history })
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
    fn filters_read_each_value_as_stored() {
        let query = list_query(
            &principal(),
            "trackingNumber=%2B18005551212&leadSource=Google+Ads&answered=false&direction=inbound&firstTimeCaller=true&leadStatus=spam&tag=vip&contactId=c-1&dealId=d-1&jobId=j-1&caller=%2B14155550123",
        )
        .unwrap();
        let filters: Vec<(&str, &str)> = query.filters.iter().map(|(f, v)| (f.name(), v.as_str())).collect();
        assert_eq!(
            filters,
            [
                ("trackingNumber", "+18005551212"),
                ("leadSource", "Google Ads"),
                ("answered", "false"),
                ("direction", "inbound"),
                ("firstTimeCaller", "true"),
                ("leadStatus", "spam"),
                ("tag", "vip"),
                ("contactId", "c-1"),
                ("dealId", "d-1"),
                ("jobId", "j-1"),
                ("caller", "+14155550123"),
            ]
        );
    }

    #[test]
    fn a_patch_reads_each_field_and_names_a_bad_one() {
        let change =
            disposition_change(br#"{"leadStatus":"good-lead","tags":["vip"," repeat "],"note":"wants a quote","value":12.5}"#).unwrap();
        assert_eq!(change.lead_status, Some(Some(LeadStatus::GoodLead)));
        assert_eq!(change.tags, Some(["repeat".to_owned(), "vip".to_owned()].into()));
        assert_eq!((change.note, change.value_cents), (Some(Some("wants a quote".into())), Some(Some(1250))));
        let cleared = disposition_change(br#"{"leadStatus":null,"note":null,"value":null,"tags":[]}"#).unwrap();
        assert_eq!((cleared.lead_status, cleared.note, cleared.value_cents), (Some(None), Some(None), Some(None)));
        for (body, name, reason) in [
            (&b"not json"[..], "body", "is not JSON"),
            (b"[]", "body", "must be a JSON object"),
            (br#"{"leadStatus":"hot"}"#, "leadStatus", "is not a lead status"),
            (br#"{"leadStatus":1}"#, "leadStatus", "must be a string or null"),
            (br#"{"tags":"vip"}"#, "tags", "must be an array of strings"),
            (br#"{"tags":[1]}"#, "tags", "must be an array of strings"),
            (br#"{"tags":[""]}"#, "tags", "holds"),
            (br#"{"value":12.345}"#, "value", "must be an amount"),
            (br#"{"value":-1}"#, "value", "must be an amount"),
            (br#"{"value":"12"}"#, "value", "must be a number or null"),
            (br#"{"qualified":true}"#, "qualified", "is not a field of a call's disposition"),
        ] {
            let problem = disposition_change(body).unwrap_err();
            assert_eq!((problem.status, problem.invalid_params[0].name.as_str()), (400, name), "{}", String::from_utf8_lossy(body));
            assert!(problem.invalid_params[0].reason.starts_with(reason), "{}", problem.invalid_params[0].reason);
        }
        let long = format!(r#"{{"note":"{}"}}"#, "x".repeat(MAX_NOTE_CHARS + 1));
        assert_eq!(disposition_change(long.as_bytes()).unwrap_err().invalid_params[0].name, "note");
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
            ("limit=1&limit=2", "limit", "is given more than once"),
            (
                "tenantId=other",
                "tenantId",
                "is not a parameter of this listing (limit, cursor, userId, qualified, since, until, trackingNumber,",
            ),
            ("trackingNumber=8005551212", "trackingNumber", "is not an E.164"),
            ("caller=", "caller", "is empty"),
            ("answered=yes", "answered", "must be true or false"),
            ("firstTimeCaller=1", "firstTimeCaller", "must be true or false"),
            ("direction=sideways", "direction", "is not"),
            ("leadStatus=hot", "leadStatus", "is not a lead status"),
            ("tag=", "tag", "is empty"),
            ("contactId=%20", "contactId", "is empty"),
            ("limit=%zz", "limit", "is not a whole number"),
        ] {
            let problem = list_query(&principal(), query).unwrap_err();
            assert_eq!(problem.status, 400, "{query}");
            assert_eq!(problem.invalid_params[0].name, name, "{query}");
            assert!(problem.invalid_params[0].reason.starts_with(reason), "{query}: {}", problem.invalid_params[0].reason);
        }
    }
}
