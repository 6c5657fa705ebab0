//! `calltrack simulate --verify`: reads every simulated call back from
//! DynamoDB and checks it against what its scenario expects. A call that is
//! missing is lost; one whose stored facts differ from the expected is wrong.

use crate::scenario::{CALLER_NAME, Expected};
use crate::{Failure, storage::Storage};
use calltrack_core::call::EventKind;
use calltrack_core::ports::{LookUpNumbers, ReadCalls};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallView, Scope};
use calltrack_twilio::fields::{CallSid, CallStatus, Field, PhoneNumber};
use std::sync::Arc;

/// Reads back each call `from` made to the tracking number `to`; fails when any is lost or wrong.
pub async fn run(storage: &Storage, to: &str, from: &str, expected: &[Expected], concurrency: u32) -> Result<(), Failure> {
    let store = Arc::new(storage.store().await?);
    let number = store.tracking_number(&PhoneNumber::e164("--to", to)?).await.map_err(|e| storage.failure(e))?;
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
    let (mut lost, mut wrong, mut answers_missing) = (0, 0, 0);
    for (call, read) in expected.iter().zip(reads) {
        let detail = read.await.map_err(|e| Failure::from(e.to_string()))?.map_err(|e| storage.failure(e))?;
        let Some(detail) = detail else {
            lost += 1;
            println!("lost  {} ({:?}): not stored", call.call_sid, call.scenario);
            continue;
        };
        let problems = check(call, &detail, number.as_ref(), from);
        if !problems.is_empty() {
            wrong += 1;
            println!("wrong {} ({:?}): {}", call.call_sid, call.scenario, problems.join("; "));
        }
        answers_missing += usize::from(!detail.events.iter().any(|e| e.kind == EventKind::Answer));
    }
    let recovered = if answers_missing > 0 {
        format!(" ({answers_missing} answered while storage was down: their facts were filled in from the callbacks)")
    } else {
        String::new()
    };
    println!("verified {} calls: {} as sent, {lost} lost, {wrong} wrong{recovered}", expected.len(), expected.len() - lost - wrong);
    if lost + wrong > 0 {
        return Err(Failure::from(format!("{} of {} calls lost or wrong", lost + wrong, expected.len())));
    }
    Ok(())
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
    expect("user", call.user_id.as_deref() == number.map(|n| n.user_id.as_str()), format!("{:?}", call.user_id));
    expect("from", call.from_number.as_ref().map(PhoneNumber::as_str) == Some(from), format!("{:?}", call.from_number));
    expect("caller name", call.caller_name.as_deref() == Some(CALLER_NAME), format!("{:?}", call.caller_name));
    expect("status", call.status == Some(CallStatus::Completed), format!("{:?}", call.status));
    expect("forwarded", call.forwarded, "false".into());
    expect("dial status", call.dial_status == Some(expected.dial_status), format!("{:?}", call.dial_status));
    expect("talk time", call.talk_seconds == expected.talk_seconds, format!("{:?}", call.talk_seconds));
    let qualified = expected.qualified(number.and_then(|n| n.min_talk_seconds));
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
