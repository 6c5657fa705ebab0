//! `calltrack stats`: a tenant's counts as `GET /api/stats` gives them (the
//! same code), and `--verify`, which recounts the tenant's stored calls and
//! compares, for every grouping, day by day.

use crate::{Failure, storage};
use calltrack_api::principal::{Principal, Role};
use calltrack_api::stats::stats;
use calltrack_core::call_index::{Dimension, StatsQuery, day_of, recount};
use calltrack_core::ports::{CountCalls, ReadCalls};
use calltrack_core::view::{CallQuery, TenantId};
use calltrack_twilio::fields::Field;

#[derive(clap::Args)]
pub struct Args {
    /// The tenant whose calls to count
    #[arg(long)]
    tenant: String,
    /// The first day counted, UTC (2026-11-01) [default: 29 days before --until]
    #[arg(long)]
    since: Option<String>,
    /// The last day counted, UTC [default: today]
    #[arg(long)]
    until: Option<String>,
    /// day, leadSource, user or trackingNumber
    #[arg(long, default_value = "day")]
    group_by: String,
    /// JSON (as the API answers) instead of a table
    #[arg(long)]
    json: bool,
    /// Recount the tenant's stored calls (every one, through its index) and
    /// compare with the counters for every grouping; exits 1 when they differ
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    storage: storage::Storage,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    let store = args.storage.store().await?;
    let tenant = TenantId::parse("--tenant", &args.tenant)?;
    if args.verify {
        return verify(&store, &args, tenant).await;
    }
    let principal = Principal { tenant, user_id: "calltrack".into(), role: Role::Admin };
    let mut query = vec![format!("groupBy={}", args.group_by)];
    query.extend(args.since.iter().map(|d| format!("since={d}")));
    query.extend(args.until.iter().map(|d| format!("until={d}")));
    let counted = stats(&store, &principal, &query.join("&")).await.map_err(|problem| match problem.status {
        503 => Failure::from("storage failed: see the log line above".to_owned()),
        _ => Failure::from(problem.detail.replacen("groupBy", "--group-by", 1)),
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&counted).expect("stats serialise"));
        return Ok(());
    }
    println!(
        "{:<28} {:>6} {:>8} {:>6} {:>9} {:>10} {:>10} {:>8} {:>7}",
        counted.group_by.to_uppercase(),
        "CALLS",
        "ANSWERED",
        "MISSED",
        "QUALIFIED",
        "FIRST-TIME",
        "VOICEMAILS",
        "TALK (S)",
        "MEDIAN"
    );
    let rows = counted.groups.iter().map(|g| (g.key.clone().unwrap_or_else(|| "(none)".into()), &g.counts));
    for (key, c) in rows.chain([("total".to_owned(), &counted.total)]) {
        let median = c.median_talk_seconds.map_or("-".into(), |m| m.to_string());
        println!(
            "{key:<28} {:>6} {:>8} {:>6} {:>9} {:>10} {:>10} {:>8} {median:>7}",
            c.calls, c.answered, c.missed, c.qualified, c.first_time_callers, c.voicemails, c.talk_seconds
        );
    }
    Ok(())
}

/// Every call of the tenant, read page by page through its index, recounted
/// for each grouping over the days they span, against the counters.
async fn verify(store: &calltrack_dynamo::DynamoStore, args: &Args, tenant: TenantId) -> Result<(), Failure> {
    let failure = |e| args.storage.failure(e);
    let mut query = CallQuery { limit: Some(1000), ..CallQuery::tenant(tenant.clone()) };
    let mut calls = Vec::new();
    loop {
        let page = store.calls(&query).await.map_err(failure)?;
        calls.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let (Some(first), Some(last)) = (calls.iter().map(|c| c.started_at).min(), calls.iter().map(|c| c.started_at).max()) else {
        println!("tenant {tenant} has no calls: nothing to count");
        return Ok(());
    };
    let mut differences = Vec::new();
    for dimension in Dimension::ALL {
        let expected = recount(calls.iter().map(Into::into), dimension);
        let stats_query = StatsQuery { tenant: tenant.clone(), dimension, since: day_of(first), until: day_of(last) };
        let counted: std::collections::BTreeMap<_, _> = store.stats(&stats_query).await.map_err(failure)?.into_iter().collect();
        for key in expected.keys().chain(counted.keys()).collect::<std::collections::BTreeSet<_>>() {
            if expected.get(key) != counted.get(key) {
                differences.push(format!("{} {key:?}: counters {:?}, recount {:?}", dimension.name(), counted.get(key), expected.get(key)));
            }
        }
    }
    if differences.is_empty() {
        println!("stats match a recount of {} calls, by day, leadSource, user and trackingNumber", calls.len());
        Ok(())
    } else {
        Err(Failure::from(format!("stats differ from a recount of {} calls:\n{}", calls.len(), differences.join("\n"))))
    }
}
