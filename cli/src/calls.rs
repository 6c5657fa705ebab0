//! `calltrack calls list|show|erase`: the stored calls as their readers see
//! them (`CallSummary`, `CallView`), as a table or as their stable camelCase
//! JSON; one call deleted within its tenant; and one caller's calls erased,
//! events and all.

use crate::{Failure, storage};
use calltrack_core::copy::recordings_of;
use calltrack_core::ports::{EraseCallers, ReadCalls};
use calltrack_core::view::{CallQuery, CallSummary, Scope, TenantId};
use calltrack_dynamo::DynamoStore;
use calltrack_s3::RecordingBucket;
use calltrack_twilio::fields::{CallSid, Field, PhoneNumber};

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
    /// Deletes one call of a tenant, with all its events
    #[command(long_about = "Deletes one call of --tenant, with all its events (raw callbacks), e.g. a test call. \
A call of another tenant, or of none, is refused as if it did not exist. A callback that comes in afterwards \
stores the call again, so delete a call once it has ended.")]
    Delete {
        call_sid: String,
        /// The tenant the call belongs to
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        storage: storage::Storage,
    },
    /// Erases one caller's data: every call from a number, in every tenant, with all its events
    #[command(long_about = "Erases one caller's data: every call whose caller (From) is --from, in every tenant \
and to unknown numbers alike, with all its events (raw callbacks), then prints how many went.\n\n\
There is no index on the caller, so this reads the whole calls table (a Scan filtered on the caller, \
page after page): an operator's command, which costs a read of every call. Run it once the caller's \
calls have ended: a callback that comes in afterwards stores its call again. Running it again is \
harmless, and finishes what an interrupted run began (a call's events go before the call). \
--dry-run lists the calls that would go, and erases nothing.")]
    Erase(EraseArgs),
    /// Puts the calls stored before the calls' index, or before its current keys, in it, after an upgrade
    #[command(long_about = "Puts every call stored before the calls' index existed (a stack deployed before \
it, then upgraded) in the index, oldest first: its listings, its share of the counts (GET /api/stats), \
and its caller's earlier calls (firstTimeCaller). A call indexed by an older version of the index's keys \
(before the busiest listings were sharded) is moved to today's keys, its counts left as they are. Until \
then, such calls are missing from GET /api/calls unfiltered and by qualified, answered, direction, \
firstTimeCaller or leadSource. A call that gets a callback is indexed by that callback \
anyway; this is for the others. It scans the calls table once (an operator's command), and running it again \
is harmless: it prints how many calls it indexed, and how many it left (a callback wrote them meanwhile, \
which indexes them; or their item does not read, and their next callback rebuilds it).")]
    Reindex {
        #[command(flatten)]
        storage: storage::Storage,
    },
}

#[derive(clap::Args)]
pub struct EraseArgs {
    /// The caller whose calls to erase, in E.164 (+12125550199)
    #[arg(long)]
    from: String,
    /// List the calls that would be erased, and erase nothing
    #[arg(long)]
    dry_run: bool,
    /// The bucket recordings are kept in (the stack output RecordingBucketName): each
    /// erased call's recordings are deleted from it too
    #[arg(long, env = "RECORDING_BUCKET")]
    recording_bucket: Option<String>,
    /// S3 endpoint, e.g. moto's server; AWS when unset
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint_url: Option<String>,
    #[command(flatten)]
    storage: storage::Storage,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// The tenant whose calls to list (calls to unknown numbers have none: see them with `calls show`)
    #[arg(long)]
    tenant: String,
    /// Only this user's calls
    #[arg(long)]
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
        Command::Erase(args) => erase(args).await,
        Command::Reindex { storage } => {
            let report = storage.store().await?.reindex().await.map_err(|e| storage.failure(e))?;
            println!(
                "indexed {} calls stored before the calls' index or its current keys; {} changed meanwhile (run it again to be sure), {} unreadable (their next callback indexes them)",
                report.indexed, report.changed, report.unreadable
            );
            Ok(())
        }
        Command::Delete { call_sid, tenant, storage } => {
            let sid = CallSid::parse("CALLSID", &call_sid)?;
            let tenant = TenantId::parse("--tenant", &tenant)?;
            match delete(&storage.store().await?, &storage, &tenant, &sid).await? {
                Some(events) => println!("deleted {sid} and its {events} events"),
                None => return Err(Failure::from(format!("no call {sid} in tenant {tenant}"))),
            }
            Ok(())
        }
        Command::Show { call_sid, json, storage } => {
            let sid = CallSid::parse("CALLSID", &call_sid)?;
            let view = storage.store().await?.call(&Scope::Operator, &sid).await.map_err(|e| storage.failure(e))?;
            let Some(view) = view else { return Err(Failure::from(format!("no call {call_sid}"))) };
            if json {
                println!("{}", serde_json::to_string_pretty(&view).expect("a call serialises"));
                return Ok(());
            }
            print_table(std::slice::from_ref(&view.summary));
            println!("\n{:<20} {:<10} {:<12} {:>4}  KEY", "RECEIVED (UTC)", "KIND", "STATUS", "SEQ");
            for e in &view.events {
                let seq = e.sequence_number.map_or("-".to_owned(), |n| n.to_string());
                let kind = e.kind.as_str();
                let status = e.status.as_deref().unwrap_or("-");
                println!("{:<20} {kind:<10} {status:<12} {seq:>4}  {}", time_of(e.received_at), e.event_key);
            }
            Ok(())
        }
    }
}

async fn list(args: ListArgs) -> Result<(), Failure> {
    let store = args.storage.store().await?;
    let mut query = CallQuery {
        user_id: args.user.clone(),
        since: args.since,
        qualified_only: args.qualified,
        ..CallQuery::tenant(TenantId::parse("--tenant", &args.tenant)?)
    };
    let mut calls = Vec::new();
    loop {
        let page = store.calls(&query).await.map_err(|e| args.storage.failure(e))?;
        calls.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&calls).expect("calls serialise"));
    } else {
        print_table(&calls);
    }
    Ok(())
}

/// Deletes `call_sid` with its events when it is `tenant`'s, and says how
/// many events went; `None` when `tenant` has no such call.
pub async fn delete(
    store: &DynamoStore,
    storage: &storage::Storage,
    tenant: &TenantId,
    call_sid: &CallSid,
) -> Result<Option<usize>, Failure> {
    let scope = Scope::Tenant(tenant.clone());
    if store.call(&scope, call_sid).await.map_err(|e| storage.failure(e))?.is_none() {
        return Ok(None);
    }
    Ok(Some(store.erase_call(call_sid.as_str()).await.map_err(|e| storage.failure(e))?))
}

async fn erase(args: EraseArgs) -> Result<(), Failure> {
    let caller = PhoneNumber::e164("--from", &args.from)?;
    let store = args.storage.store().await?;
    let calls = store.calls_from(&caller).await.map_err(|e| args.storage.failure(e))?;
    if args.dry_run {
        println!("{:<34} {:<20} TENANT", "CALL SID", "STARTED (UTC)");
        for call in &calls {
            let started = call.started_at.map_or("-".to_owned(), time_of);
            println!("{:<34} {started:<20} {}", call.call_sid, call.tenant_id.as_deref().unwrap_or("(none)"));
        }
        println!("would erase {} calls from {caller}, and their events (--dry-run: nothing erased)", calls.len());
        return Ok(());
    }
    let bucket = match args.recording_bucket.as_deref().filter(|b| !b.trim().is_empty()) {
        Some(name) => {
            let endpoint = args.s3_endpoint_url.as_deref().filter(|e| !e.trim().is_empty());
            Some(RecordingBucket::new(storage::s3_client(endpoint).await, name))
        }
        None => None,
    };
    let (mut events, mut recordings) = (0, 0);
    for call in &calls {
        // The recordings first: a call erased but its audio kept would leave no way to find it.
        // Under its tenant, and unattributed: a call copied before it had its owner.
        if let Some(bucket) = &bucket {
            for tenant in [call.tenant_id.as_deref(), None].into_iter().collect::<std::collections::BTreeSet<_>>() {
                let prefix = recordings_of(tenant, &call.call_sid);
                recordings += bucket.delete_under(&prefix).await.map_err(|e| Failure::from(e.0))?;
            }
        }
        let erased = store.erase_call(&call.call_sid).await.map_err(|e| args.storage.failure(e))?;
        println!("erased {} ({erased} events)", call.call_sid);
        events += erased;
    }
    match bucket {
        Some(bucket) => {
            println!("erased {} calls, {events} events and {recordings} recordings (s3://{}) from {caller}", calls.len(), bucket.bucket())
        }
        None => println!(
            "erased {} calls and {events} events from {caller} (recordings in a bucket are kept: name it with --recording-bucket)",
            calls.len()
        ),
    }
    Ok(())
}

fn print_table(calls: &[CallSummary]) {
    println!(
        "{:<20} {:<34} {:<13} {:<13} {:<12} {:<12} {:>5} {:<9} REASON",
        "STARTED (UTC)", "CALL SID", "FROM", "TRACKING", "SOURCE", "STATUS", "TALK", "QUALIFIED"
    );
    for c in calls {
        let number = |n: &Option<PhoneNumber>| n.as_ref().map_or("-".to_owned(), |n| n.to_string());
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

/// `--since`, read as the API reads `since`: a date (midnight UTC) or an RFC 3339 time.
fn parse_date(text: &str) -> Result<i64, String> {
    calltrack_api::calls::parse_instant("--since", text).map_err(|e| e.to_string())
}
