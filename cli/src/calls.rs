//! `calltrack calls list|show`: the stored calls, as a table or as JSON
//! (camelCase, the seeds' field names).

use crate::{Failure, storage};
use calltrack_shared::call::{Call, CallEvent};
use calltrack_shared::fields::{CallSid, Field};
use calltrack_shared::store::{CallQuery, Scope, Store};
use serde_json::{Value, json};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Lists calls, newest first
    List(ListArgs),
    /// Shows one call and its events in order
    Show {
        call_sid: String,
        /// JSON instead of text
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: storage::Storage,
    },
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only this tenant's calls (without it: every call, unattributed ones included)
    #[arg(long)]
    tenant: Option<String>,
    /// Only this user's calls (needs --tenant)
    #[arg(long, requires = "tenant")]
    user: Option<String>,
    /// Only qualified calls
    #[arg(long)]
    qualified: bool,
    /// Only calls that started on or after this date (2026-11-21 or 2026-11-21T09:00:00Z)
    #[arg(long, value_parser = parse_date)]
    since: Option<i64>,
    /// JSON instead of a table
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    storage: storage::Storage,
}

pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::List(args) => list(args).await,
        Command::Show { call_sid, json, storage } => {
            let sid = CallSid::parse("CALLSID", &call_sid)?;
            let detail = storage.store().await.call(&Scope::Operator, &sid).await.map_err(|e| storage.failure(e))?;
            let Some(detail) = detail else { return Err(Failure::from(format!("no call {call_sid}"))) };
            let mut out = call_json(&detail.call);
            out["events"] = detail.events.iter().map(event_json).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&out).expect("json"));
            } else {
                print_table(std::slice::from_ref(&detail.call));
                println!("\n{:<20} {:<10} {:<12} {:>4}  KEY", "HAPPENED (UTC)", "KIND", "STATUS", "SEQ");
                for e in &detail.events {
                    let seq = e.sequence_number.map_or("-".to_owned(), |n| n.to_string());
                    println!(
                        "{:<20} {:<10} {:<12} {:>4}  {}",
                        time_of(e.happened_at()),
                        kind(e),
                        e.status.as_deref().unwrap_or("-"),
                        seq,
                        e.event_key
                    );
                }
            }
            Ok(())
        }
    }
}

async fn list(args: ListArgs) -> Result<(), Failure> {
    let store = args.storage.store().await;
    let mut calls = match &args.tenant {
        Some(tenant) => {
            let mut query = CallQuery {
                tenant_id: tenant.clone(),
                user_id: args.user.clone(),
                since: args.since,
                qualified_only: args.qualified,
                ..CallQuery::default()
            };
            let mut calls = Vec::new();
            loop {
                let page = store.calls(&query).await.map_err(|e| args.storage.failure(e))?;
                calls.extend(page.calls);
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break calls,
                }
            }
        }
        None => store.all_calls().await.map_err(|e| args.storage.failure(e))?,
    };
    calls.retain(|c| (!args.qualified || c.qualified) && args.since.is_none_or(|since| c.started_at >= since));
    if args.json {
        let list: Vec<Value> = calls.iter().map(call_json).collect();
        println!("{}", serde_json::to_string_pretty(&list).expect("json"));
    } else {
        print_table(&calls);
    }
    Ok(())
}

/// A call as the tools show it: the stored fields, camelCase, with the
/// recording's SID and URL alongside.
pub fn call_json(call: &Call) -> Value {
    let mut out = serde_json::to_value(call).expect("a call serialises");
    out["recordingSid"] = json!(call.recording.as_ref().map(|r| r.sid.as_str()));
    out["recordingUrl"] = json!(call.recording.as_ref().and_then(|r| r.url.clone()));
    for field in [
        "tenantId",
        "userId",
        "trackingNumber",
        "leadSource",
        "durationSeconds",
        "talkSeconds",
        "fromNumber",
        "toNumber",
        "direction",
        "status",
    ] {
        if out.get(field).is_none() {
            out[field] = Value::Null;
        }
    }
    out
}

fn event_json(event: &CallEvent) -> Value {
    json!({
        "kind": event.kind,
        "status": event.status,
        "sequenceNumber": event.sequence_number,
        "receivedAt": event.received_at,
        "occurredAt": event.occurred_at,
        "eventKey": event.event_key,
    })
}

fn kind(event: &CallEvent) -> String {
    serde_json::to_value(event.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn print_table(calls: &[Call]) {
    println!(
        "{:<20} {:<34} {:<13} {:<13} {:<12} {:<12} {:>5} {:<9} REASON",
        "STARTED (UTC)", "CALL SID", "FROM", "TRACKING", "SOURCE", "STATUS", "TALK", "QUALIFIED"
    );
    for c in calls {
        let number = |n: &Option<calltrack_shared::fields::PhoneNumber>| n.as_ref().map_or("-".to_owned(), |n| n.to_string());
        println!(
            "{:<20} {:<34} {:<13} {:<13} {:<12} {:<12} {:>5} {:<9} {}",
            time_of(c.started_at),
            c.call_sid.as_str(),
            number(&c.from_number),
            number(&c.tracking_number),
            c.lead_source.as_deref().unwrap_or(if c.attributed { "-" } else { "(unknown)" }),
            c.status.map_or("-", |s| s.as_str()),
            c.talk_seconds.map_or("-".to_owned(), |t| format!("{t}s")),
            if c.qualified { "yes" } else { "no" },
            c.qualification_reason
        );
    }
    if calls.is_empty() {
        println!("(no calls)");
    }
}

fn time_of(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok().and_then(|t| t.format(&format).ok()).unwrap_or_else(|| ms.to_string())
}

/// `2026-11-21` (midnight UTC) or an RFC 3339 time, as ms since the epoch.
fn parse_date(text: &str) -> Result<i64, String> {
    if let Ok(at) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok((at.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let day = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{text:?} is not a date: use 2026-11-21 or 2026-11-21T09:00:00Z"))?;
    Ok(day.midnight().assume_utc().unix_timestamp() * 1000)
}
