//! `calltrack simulate --verify`: reads every simulated call back from
//! DynamoDB and checks it against what was sent. A call that is missing is
//! lost; one whose stored facts differ from its scenario's is wrong.

use crate::simulate::{CALLER_NAME, Scenario};
use crate::{Failure, storage::Storage};
use calltrack_shared::call::EventKind;
use calltrack_shared::fields::{CallSid, CallStatus, DialCallStatus, Field, PhoneNumber};
use calltrack_shared::store::{CallDetail, Scope, Store};
use calltrack_shared::tracking_number::TrackingNumber;
use std::sync::Arc;

/// What was sent for one call.
pub struct Sent {
    pub call_sid: String,
    pub scenario: Scenario,
    /// How many distinct status and recording callbacks: each must be stored once as an event.
    pub callbacks: usize,
    pub recording_sid: String,
}

pub async fn run(storage: &Storage, to: &str, from: &str, sent: &[Sent], concurrency: u32) -> Result<(), Failure> {
    let store = Arc::new(storage.store().await);
    let number = store.tracking_number(&PhoneNumber::e164("--to", to)?).await.map_err(|e| storage.failure(e))?;
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency as usize));
    let mut reads = Vec::new();
    for call in sent {
        let (store, limit) = (store.clone(), limit.clone());
        let sid = CallSid::parse("CallSid", &call.call_sid)?;
        reads.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.expect("never closed");
            store.call(&Scope::Operator, &sid).await
        }));
    }
    let (mut lost, mut wrong, mut answers_missing) = (0, 0, 0);
    for (call, read) in sent.iter().zip(reads) {
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
    println!("verified {} calls: {} as sent, {lost} lost, {wrong} wrong{recovered}", sent.len(), sent.len() - lost - wrong);
    if lost + wrong > 0 {
        return Err(Failure::from(format!("{} of {} calls lost or wrong", lost + wrong, sent.len())));
    }
    Ok(())
}

/// How a stored call differs from its scenario.
fn check(sent: &Sent, detail: &CallDetail, number: Option<&TrackingNumber>, from: &str) -> Vec<String> {
    let call = &detail.call;
    let min = number.and_then(|n| n.min_talk_seconds).unwrap_or(30);
    let (dial, talk, recorded) = match sent.scenario {
        Scenario::Answered => (DialCallStatus::Completed, Some(45), true),
        Scenario::Short => (DialCallStatus::Completed, Some(12), true),
        Scenario::NoAnswer => (DialCallStatus::NoAnswer, None, false),
        Scenario::Voicemail => (DialCallStatus::NoAnswer, None, true),
        Scenario::Busy => (DialCallStatus::Busy, None, false),
        Scenario::Mixed => unreachable!("a call plays one scenario"),
    };
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
    expect("dial status", call.dial_status == Some(dial), format!("{:?}", call.dial_status));
    expect("talk time", call.talk_seconds == talk, format!("{:?}", call.talk_seconds));
    expect("qualified", call.qualified == talk.is_some_and(|t| t >= min), format!("{} ({})", call.qualified, call.qualification_reason));
    expect("voicemail", call.voicemail == (sent.scenario == Scenario::Voicemail), call.voicemail.to_string());
    let recording = call.recording.as_ref().map(|r| r.sid.as_str());
    expect("recording", recording == recorded.then_some(sent.recording_sid.as_str()), format!("{recording:?}"));
    // Every callback once. The answer and dial-result are answered even when
    // storage is down, so theirs may be missing: their facts come again in the callbacks.
    let callbacks = detail.events.iter().filter(|e| matches!(e.kind, EventKind::Status | EventKind::Recording)).count();
    expect("callback events", callbacks == sent.callbacks, format!("{callbacks}, not {}", sent.callbacks));
    problems
}
