//! Every edge of the qualified-lead rule: completed, and the conversation lasted
//! at least the number's minimum (30 s unless the number sets its own).

use calltrack_core::qualification::{CallOutcome, DEFAULT_MIN_TALK_SECONDS, qualify};
use calltrack_twilio::fields::{CallStatus, DialCallStatus};

fn direct(status: CallStatus, duration: Option<u32>) -> CallOutcome {
    CallOutcome { status: Some(status), duration_seconds: duration, ..CallOutcome::default() }
}

fn forwarded(inbound_duration: u32, dial: DialCallStatus, talk: Option<u32>) -> CallOutcome {
    CallOutcome {
        status: Some(CallStatus::Completed),
        duration_seconds: Some(inbound_duration),
        forwarded: true,
        dial_status: Some(dial),
        talk_seconds: talk,
        bridged: None,
    }
}

fn verdict(outcome: CallOutcome, min: u32) -> (bool, String) {
    let q = qualify(&outcome, min);
    (q.qualified, q.reason)
}

#[test]
fn default_minimum_is_thirty_seconds() {
    assert_eq!(DEFAULT_MIN_TALK_SECONDS, 30);
}

#[test]
fn twenty_nine_thirty_and_thirty_one_seconds() {
    let min = DEFAULT_MIN_TALK_SECONDS;
    assert_eq!(verdict(direct(CallStatus::Completed, Some(29)), min), (false, "too short: 29 s < 30 s".into()));
    assert_eq!(verdict(direct(CallStatus::Completed, Some(30)), min), (true, "qualified: talked 30 s".into()));
    assert_eq!(verdict(direct(CallStatus::Completed, Some(31)), min), (true, "qualified: talked 31 s".into()));
    // The same edge on the Dial's talk time.
    assert_eq!(verdict(forwarded(60, DialCallStatus::Completed, Some(29)), min), (false, "too short: 29 s < 30 s".into()));
    assert_eq!(verdict(forwarded(60, DialCallStatus::Completed, Some(30)), min), (true, "qualified: talked 30 s".into()));
    assert_eq!(verdict(forwarded(60, DialCallStatus::Completed, Some(31)), min), (true, "qualified: talked 31 s".into()));
}

#[test]
fn forwarded_call_counts_the_conversation_not_the_inbound_leg() {
    // 40 s ringing + 10 s talk: the inbound leg lasted 50 s, the conversation 10 s.
    assert_eq!(verdict(forwarded(50, DialCallStatus::Completed, Some(10)), 30), (false, "too short: 10 s < 30 s".into()));
    assert_eq!(verdict(forwarded(52, DialCallStatus::Completed, Some(45)), 30), (true, "qualified: talked 45 s".into()));
}

#[test]
fn forwarded_but_unanswered_never_qualifies_however_long_the_inbound_leg() {
    // Voicemail: the inbound leg is `completed` and long, the business never answered.
    for dial in [DialCallStatus::NoAnswer, DialCallStatus::Busy, DialCallStatus::Failed, DialCallStatus::Canceled] {
        assert_eq!(verdict(forwarded(95, dial, None), 30), (false, format!("not answered: {dial}")));
    }
}

#[test]
fn a_dial_never_bridged_is_no_conversation_whatever_its_durations() {
    // A screened call that the business's voicemail, or an agent who did not accept it, took:
    // Twilio reports the Dial `completed`, with a duration, and `DialBridged=false`.
    let voicemail = CallOutcome { bridged: Some(false), ..forwarded(95, DialCallStatus::Completed, Some(40)) };
    assert_eq!(verdict(voicemail, 30), (false, "not answered: never bridged to the business".into()));
    let bridged = CallOutcome { bridged: Some(true), ..forwarded(95, DialCallStatus::Completed, Some(40)) };
    assert_eq!(verdict(bridged, 30), (true, "qualified: talked 40 s".into()));
    // Not forwarded: the Dial's facts do not apply.
    let direct = CallOutcome { bridged: Some(false), ..direct(CallStatus::Completed, Some(40)) };
    assert_eq!(verdict(direct, 30), (true, "qualified: talked 40 s".into()));
}

#[test]
fn busy_no_answer_canceled_and_failed_calls() {
    for status in [CallStatus::Busy, CallStatus::NoAnswer, CallStatus::Canceled, CallStatus::Failed] {
        assert_eq!(verdict(direct(status, Some(0)), 30), (false, format!("not answered: {status}")));
    }
    assert_eq!(verdict(direct(CallStatus::Busy, None), 30), (false, "not answered: busy".into()));
}

#[test]
fn per_number_minimum_is_respected() {
    assert_eq!(verdict(forwarded(90, DialCallStatus::Completed, Some(45)), 60), (false, "too short: 45 s < 60 s".into()));
    assert_eq!(verdict(forwarded(90, DialCallStatus::Completed, Some(60)), 60), (true, "qualified: talked 60 s".into()));
    assert_eq!(verdict(direct(CallStatus::Completed, Some(10)), 0), (true, "qualified: talked 10 s".into()));
}

#[test]
fn calls_still_in_progress_are_not_yet_qualified() {
    assert_eq!(verdict(CallOutcome::default(), 30), (false, "in progress".into()));
    for status in [CallStatus::Queued, CallStatus::Initiated, CallStatus::Ringing, CallStatus::InProgress] {
        let outcome = CallOutcome {
            status: Some(status),
            forwarded: true,
            dial_status: Some(DialCallStatus::Completed),
            talk_seconds: Some(45),
            ..CallOutcome::default()
        };
        assert_eq!(verdict(outcome, 30), (false, format!("in progress: {status}")), "talk time alone is not enough");
    }
}

#[test]
fn completed_before_its_durations_arrive() {
    // Callbacks race: the parent's `completed` can land before the Dial outcome.
    let waiting =
        CallOutcome { status: Some(CallStatus::Completed), duration_seconds: Some(50), forwarded: true, ..CallOutcome::default() };
    assert_eq!(verdict(waiting, 30), (false, "completed: no talk time yet".into()));
    assert_eq!(verdict(direct(CallStatus::Completed, None), 30), (false, "completed: no talk time yet".into()));
    // The child leg's duration stands in for a Dial outcome that has not arrived.
    let child_only = CallOutcome { talk_seconds: Some(40), ..waiting };
    assert_eq!(verdict(child_only, 30), (true, "qualified: talked 40 s".into()));
}

#[test]
fn a_conference_dial_reports_answered() {
    assert_eq!(verdict(forwarded(70, DialCallStatus::Answered, Some(45)), 30), (true, "qualified: talked 45 s".into()));
}
