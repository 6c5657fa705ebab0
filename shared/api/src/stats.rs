//! `GET /api/stats?since&until&groupBy=day|leadSource|user|trackingNumber`:
//! what a dashboard shows, from the tenant's counters (kept exact as calls are
//! written, [`calltrack_core::call_index`]), never from its calls.

use crate::calls::distinct_params;
use crate::principal::Principal;
use crate::problem::Problem;
use calltrack_core::call_index::{Counts, Dimension, StatsQuery, day_of};
use calltrack_core::ports::CountCalls;
use serde::Serialize;

/// The parameters `GET /api/stats` takes.
pub const STATS_PARAMETERS: &[&str] = &["since", "until", "groupBy"];
/// Days counted when `since` is not given: the last 30, today included.
pub const DEFAULT_DAYS: i64 = 30;

/// The counts of each group, and of all of them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub group_by: &'static str,
    /// The first and last day counted (UTC).
    pub since: String,
    pub until: String,
    pub groups: Vec<Group>,
    pub total: Totals,
}

/// One group: a day, a lead source, a user or a tracking number (`null`: calls without one).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub key: Option<String>,
    #[serde(flatten)]
    pub counts: Totals,
}

/// What the calls add up to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub calls: i64,
    /// The business picked up.
    pub answered: i64,
    /// Ended without the business picking up.
    pub missed: i64,
    /// Qualified leads: by the rule, or by a person's lead status (spam never).
    pub qualified: i64,
    pub first_time_callers: i64,
    pub voicemails: i64,
    /// The answered calls' conversations, in all.
    pub talk_seconds: i64,
    /// Exact under 2 minutes; above, the lower bound of its 10 s step (to 10 min) or 1 min step (to 2 h); 7200 beyond.
    pub median_talk_seconds: Option<u32>,
}

impl From<&Counts> for Totals {
    fn from(c: &Counts) -> Self {
        Totals {
            calls: c.calls,
            answered: c.answered,
            missed: c.missed,
            qualified: c.qualified,
            first_time_callers: c.first_time_callers,
            voicemails: c.voicemails,
            talk_seconds: c.talk_seconds,
            median_talk_seconds: c.median_talk_seconds(),
        }
    }
}

/// The query the parameters ask for, within the principal's tenant, as of `today`.
pub fn stats_query(principal: &Principal, query: &str, now_ms: i64) -> Result<StatsQuery, Problem> {
    let params = distinct_params(query)?;
    let (mut since, mut until, mut dimension) = (None, None, Dimension::Day);
    for (name, value) in params.iter() {
        match name {
            "since" => since = Some(day(name, value)?),
            "until" => until = Some(day(name, value)?),
            "groupBy" => {
                dimension = Dimension::ALL.into_iter().find(|d| d.name() == value).ok_or_else(|| {
                    let names: Vec<_> = Dimension::ALL.iter().map(|d| d.name()).collect();
                    Problem::invalid(name, format!("must be one of {}, not {value:?}", names.join(", ")))
                })?
            }
            _ => return Err(Problem::invalid(name, format!("is not a parameter of the stats ({})", STATS_PARAMETERS.join(", ")))),
        }
    }
    let until = until.unwrap_or_else(|| time_day(now_ms));
    let since = match since {
        Some(since) => since,
        None => until
            .checked_sub(time::Duration::days(DEFAULT_DAYS - 1))
            .ok_or_else(|| Problem::invalid("until", "is too early: give since too"))?,
    };
    let text = |d: time::Date| day_of(d.midnight().assume_utc().unix_timestamp() * 1000);
    Ok(StatsQuery { tenant: principal.tenant.clone(), dimension, since: text(since), until: text(until) })
}

fn day(field: &str, text: &str) -> Result<time::Date, Problem> {
    time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| Problem::invalid(field, format!("is not a day: {text:?} (use 2026-11-21; days are UTC)")))
}

fn time_day(ms: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map_or(time::Date::MIN, |t| t.date())
}

pub async fn stats<S: CountCalls>(store: &S, principal: &Principal, query: &str) -> Result<Stats, Problem> {
    let query = stats_query(principal, query, calltrack_service::app::now_ms())?;
    // Days from a later since to an earlier until hold no call.
    let groups = if query.since <= query.until { store.stats(&query).await? } else { Vec::new() };
    let mut total = Counts::default();
    for (_, counts) in &groups {
        total.add(counts, 1);
    }
    Ok(Stats {
        group_by: query.dimension.name(),
        since: query.since,
        until: query.until,
        groups: groups
            .iter()
            .map(|(key, counts)| Group { key: Some(key.clone()).filter(|k| !k.is_empty()), counts: counts.into() })
            .collect(),
        total: (&total).into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Role;
    use calltrack_core::view::TenantId;
    use calltrack_twilio::fields::Field;

    fn principal() -> Principal {
        Principal { tenant: TenantId::parse("tenant", "acme").unwrap(), user_id: "jane".into(), role: Role::Member }
    }

    const NOV_24: i64 = 1_795_478_400_000 + 12 * 3_600_000;

    #[test]
    fn stats_default_to_the_last_thirty_days_by_day() {
        let query = stats_query(&principal(), "", NOV_24).unwrap();
        assert_eq!((query.since.as_str(), query.until.as_str(), query.dimension), ("2026-10-26", "2026-11-24", Dimension::Day));
        let query = stats_query(&principal(), "since=2026-11-01&until=2026-11-30&groupBy=leadSource", NOV_24).unwrap();
        assert_eq!((query.since.as_str(), query.until.as_str(), query.dimension), ("2026-11-01", "2026-11-30", Dimension::LeadSource));
    }

    #[test]
    fn bad_stats_parameters_are_named() {
        for (query, field) in [
            ("groupBy=week", "groupBy"),
            ("since=2026-11-31", "since"),
            ("until=yesterday", "until"),
            ("groupBy=day&groupBy=user", "groupBy"),
            ("tenant=other", "tenant"),
        ] {
            let problem = stats_query(&principal(), query, NOV_24).unwrap_err();
            assert_eq!((problem.status, problem.invalid_params[0].name.as_str()), (400, field), "{query}");
        }
    }
}
