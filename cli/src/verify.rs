//! `calltrack simulate --verify`: reads every simulated call back from
//! DynamoDB and checks it against what its scenario expects. A call that is
//! missing is lost; one whose stored facts differ from the expected is wrong.

use crate::scenario::{CALLER_NAME, Expected};
use crate::{Failure, storage::Storage};
use calltrack_core::call::EventKind;
use calltrack_core::ports::{LookUpNumbers, ReadCalls};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallView, Scope};
use calltrack_dynamo::DynamoStore;
use calltrack_twilio::fields::{CallSid, CallStatus, Field, PhoneNumber};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reads back each call `from` made to the tracking number `to`; fails when
/// any is lost or wrong, after reading again for up to `settle` while some are.
pub async fn run(
    storage: &Storage,
    to: &str,
    from: &str,
    expected: &[Expected],
    concurrency: u32,
    settle: Duration,
) -> Result<(), Failure> {
    let store = Arc::new(storage.store().await?);
    let to = PhoneNumber::e164("--to", to)?;
    let started = Instant::now();
    // While settling, storage may still be down: a failed read is read again too.
    let found = loop {
        let found = match store.tracking_number(&to).await {
            Ok(number) => read_back(storage, &store, expected, number.as_ref(), from, concurrency).await,
            Err(err) => Err(storage.failure(err)),
        };
        match found {
            Ok(found) if found.problems.is_empty() || started.elapsed() >= settle => break found,
            Err(err) if started.elapsed() >= settle => return Err(err),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    for problem in &found.problems {
        println!("{problem}");
    }
    let (lost, wrong, total) = (found.lost, found.problems.len() - found.lost, expected.len());
    let mut notes = Vec::new();
    if found.answers_missing > 0 {
        notes.push(format!("{} answered while storage was down: their facts were filled in from the callbacks", found.answers_missing));
    }
    if started.elapsed() >= Duration::from_secs(1) {
        notes.push(format!("settled after {:.0} s", started.elapsed().as_secs_f64()));
    }
    let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
    println!("verified {total} calls: {} as sent, {lost} lost, {wrong} wrong{notes}", total - lost - wrong);
    if lost + wrong > 0 {
        return Err(Failure::from(format!("{} of {total} calls lost or wrong", lost + wrong)));
    }
    Ok(())
}

/// What one reading of the calls found.
struct Found {
    /// One line per lost or wrong call.
    problems: Vec<String>,
    lost: usize,
    answers_missing: usize,
}

async fn read_back(
    storage: &Storage,
    store: &Arc<DynamoStore>,
    expected: &[Expected],
    number: Option<&TrackingNumber>,
    from: &str,
    concurrency: u32,
) -> Result<Found, Failure> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency as usize));
    let mut reads = Vec::new();
    for call in expected {
        let (store, limit) = (store.clone(), limit.clone());
        let sid = CallSid::parse("CallSid", &call.call_sid)?;
        reads.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.expect("never closed");
            store.call(&Scope::Operator, &sid).await
        }));
    }
    let mut found = Found { problems: Vec::new(), lost: 0, answers_missing: 0 };
    for (call, read) in expected.iter().zip(reads) {
        let detail = read.await.map_err(|e| Failure::from(e.to_string()))?.map_err(|e| storage.failure(e))?;
        let Some(detail) = detail else {
            found.lost += 1;
            found.problems.push(format!("lost  {} ({:?}): not stored", call.call_sid, call.scenario));
            continue;
        };
        let problems = check(call, &detail, number, from);
        if !problems.is_empty() {
            found.problems.push(format!("wrong {} ({:?}): {}", call.call_sid, call.scenario, problems.join("; ")));
        }
        // A placed call has no answer webhook: it starts with its placement.
        let answered = detail.events.iter().any(|e| matches!(e.kind, EventKind::Answer | EventKind::Placed));
        found.answers_missing += usize::from(!answered);
    }
    Ok(found)
}

/// How a stored call differs from what its scenario expects.
fn check(expected: &Expected, detail: &CallView, number: Option<&TrackingNumber>, from: &str) -> Vec<String> {
    let call = &detail.summary;
    let mut problems = Vec::new();
    let mut expect = |what: &str, ok: bool, found: String| {
        if !ok {
            problems.push(format!("{what} is {found}"));
        }
    };
    expect("tenant", call.tenant_id.as_deref() == number.map(|n| n.tenant_id.as_str()), format!("{:?}", call.tenant_id));
    // A placed call is its requester's, from the tracking number; a call in is the number's user's, from its caller.
    let user = expected.placed_by.as_deref().or(number.map(|n| n.user_id.as_str()));
    expect("user", call.user_id.as_deref() == user, format!("{:?}", call.user_id));
    let from = if expected.placed_by.is_some() { number.map(|n| n.phone_number.as_str()) } else { Some(from) };
    expect("from", call.from_number.as_ref().map(PhoneNumber::as_str) == from, format!("{:?}", call.from_number));
    if expected.placed_by.is_none() {
        expect("caller name", call.caller_name.as_deref() == Some(CALLER_NAME), format!("{:?}", call.caller_name));
    }
    expect("status", call.status == Some(CallStatus::Completed), format!("{:?}", call.status));
    expect("forwarded", call.forwarded, "false".into());
    expect("dial status", call.dial_status == Some(expected.dial_status), format!("{:?}", call.dial_status));
    expect("talk time", call.talk_seconds == expected.talk_seconds, format!("{:?}", call.talk_seconds));
    let qualified = expected.qualified(number.and_then(|n| n.min_talk_seconds))
        && (expected.placed_by.is_none() || number.is_some_and(|n| n.qualify_outbound));
    expect("qualified", call.qualified == qualified, format!("{} ({})", call.qualified, call.qualification_reason));
    expect("voicemail", call.voicemail == expected.voicemail, call.voicemail.to_string());
    let recording = call.recording.as_ref().map(|r| r.sid.as_str());
    expect("recording", recording == expected.recording_sid.as_deref(), format!("{recording:?}"));
    // Every callback once. The answer and dial-result are answered even when
    // storage is down, so theirs may be missing: their facts come again in the callbacks.
    let callbacks = detail.events.iter().filter(|e| matches!(e.kind, EventKind::Status | EventKind::Recording)).count();
    expect("callback events", callbacks == expected.callbacks, format!("{callbacks}, not {}", expected.callbacks));
    problems
}
