//! What a change to a stored call sets off (`calltrack_core::outbox`): the
//! webhook events of a whole call in any order of its callbacks, the same ids
//! for a change seen twice, late tenants and verdicts, and the recording's copy.

use calltrack_core::call::{Call, CallUpdate};
use calltrack_core::copy::RecordingCopy;
use calltrack_core::disposition::{DispositionChange, LeadStatus};
use calltrack_core::endpoints::WebhookEndpoint;
use calltrack_core::fixtures::*;
use calltrack_core::outbox::{EventType, WebhookEvent, WebhookPayload, recording_to_copy, webhook_events};
use calltrack_twilio::fields::{AccountSid, CallSid, Field, RecordingSid};
use proptest::prelude::*;
use std::collections::HashSet;

fn copy_of(call: &Lifecycle, tenant: Option<&str>) -> RecordingCopy {
    RecordingCopy {
        call_sid: CallSid::parse("CallSid", &call.call_sid).unwrap(),
        account_sid: AccountSid::parse("AccountSid", call.account).unwrap(),
        recording_sid: RecordingSid::parse("RecordingSid", &call.recording_sid).unwrap(),
        tenant_id: tenant.map(str::to_owned),
    }
}

/// A forwarded call of 45 s, recorded, then copied into our bucket.
fn lifecycle() -> Vec<CallUpdate> {
    let call = Lifecycle::new(1);
    let mut updates = call.forwarded(Some(&number("acme", "jane", None)), 20, 45);
    updates.push(CallUpdate::recording_copied(&copy_of(&call, Some("acme")), T0 + 70_000));
    updates
}

/// What storage and the stream do: each distinct event applied once, each
/// write a new version, and each write's two images read by the outbox.
fn play(updates: &[CallUpdate], recordings_copied: bool) -> (Call, Vec<WebhookEvent>, Vec<RecordingCopy>) {
    let (mut seen, mut events, mut copies) = (HashSet::new(), Vec::new(), Vec::new());
    let mut call: Option<Call> = None;
    let mut version = 0;
    for update in updates.iter().filter(|u| seen.insert(u.event.id)) {
        let after = Call::apply(call.clone(), update.call.clone()).expect("one account").call;
        version += 1;
        events.extend(webhook_events(call.as_ref(), &after, version, recordings_copied));
        copies.extend(recording_to_copy(call.as_ref(), &after));
        call = Some(after);
    }
    (call.expect("at least one update"), events, copies)
}

fn types(events: &[WebhookEvent]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

#[test]
fn a_call_in_twilios_order_is_started_completed_qualified_and_recorded_once_each() {
    let (call, events, copies) = play(&lifecycle(), true);
    assert!(call.qualified, "{}", call.qualification_reason);
    assert_eq!(types(&events), [EventType::Started, EventType::Completed, EventType::Qualified, EventType::Recording]);
    // The parent's final status both ends the call and settles its verdict: one change, one version.
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, [1, 7, 7, 9]);
    assert!(events.iter().all(|e| e.tenant_id == "acme" && e.call_sid == call.call_sid));
    assert_eq!(events[0].id, format!("evt_{}_1_started", call.call_sid));
    assert_eq!(copies, [copy_of(&Lifecycle::new(1), Some("acme"))], "one copy, when the recording finished");
    let recording = call.recording.expect("recorded");
    assert_eq!(recording.bucket_key.as_deref(), Some(format!("tenants/acme/{}/{}.mp3", call.call_sid, recording.sid).as_str()));
    assert!(recording.url.is_some() && recording.duration_seconds == Some(45), "the copy keeps what Twilio said of it");
}

#[test]
fn without_our_bucket_the_recording_is_told_when_twilio_has_it() {
    let updates = lifecycle();
    let (_, events, _) = play(&updates[..updates.len() - 1], false);
    assert_eq!(types(&events).last(), Some(&EventType::Recording));
    let (_, events, _) = play(&updates[..updates.len() - 1], true);
    assert!(!types(&events).contains(&EventType::Recording), "not until the copy is in our bucket");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the order Twilio's callbacks come in, and however often, a
    /// receiver hears each of these once, `call.started` first, and nothing
    /// after the final state but the verdict's own news.
    #[test]
    fn any_order_tells_each_milestone_once_and_started_first(
        order in Just((0..lifecycle().len()).collect::<Vec<_>>()).prop_shuffle(),
        repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let updates = lifecycle();
        let mut delivered: Vec<CallUpdate> = order.iter().map(|&i| updates[i].clone()).collect();
        for repeat in repeats {
            let again = delivered[repeat.index(delivered.len())].clone();
            delivered.insert(repeat.index(delivered.len() + 1), again);
        }
        let (call, events, copies) = play(&delivered, true);
        let once = |t: EventType| events.iter().filter(|e| e.event_type == t).count();
        for t in [EventType::Started, EventType::Completed, EventType::Qualified, EventType::Recording] {
            prop_assert_eq!(once(t), 1, "{} in {:?}", t, types(&events));
        }
        prop_assert_eq!(events[0].event_type, EventType::Started);
        let completed = events.iter().find(|e| e.event_type == EventType::Completed).unwrap().version;
        prop_assert!(events.iter().filter(|e| e.event_type == EventType::Updated).all(|e| e.version > completed));
        let ids: HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
        prop_assert_eq!(ids.len(), events.len(), "ids are unique");
        prop_assert!(copies.len() <= 1, "{:?}", copies);
        prop_assert!(call.qualified);
    }
}

#[test]
fn a_change_seen_twice_sets_off_the_same_events() {
    let updates = lifecycle();
    let before = Call::apply(None, updates[0].call.clone()).unwrap().call;
    let after = Call::apply(Some(before.clone()), updates[6].call.clone()).unwrap().call;
    assert_eq!(webhook_events(Some(&before), &after, 7, true), webhook_events(Some(&before), &after, 7, true));
    assert_eq!(recording_to_copy(Some(&before), &after), recording_to_copy(Some(&before), &after));
}

#[test]
fn a_call_without_a_tenant_is_told_to_nobody_until_it_gets_one() {
    let call = Lifecycle::new(2);
    let unowned = Call::apply(None, call.answer(None).call).unwrap().call;
    assert!(webhook_events(None, &unowned, 1, true).is_empty());
    let completed = Call::apply(Some(unowned.clone()), call.parent_status(0, "completed", 5, Some(5)).call).unwrap().call;
    assert!(webhook_events(Some(&unowned), &completed, 2, true).is_empty());
    let owner = CallUpdate::owner(CallSid::parse("CallSid", &call.call_sid).unwrap(), &number("acme", "jane", None), T0);
    let owned = Call::apply(Some(completed.clone()), owner.call).unwrap().call;
    assert_eq!(types(&webhook_events(Some(&completed), &owned, 3, true)), [EventType::Started, EventType::Completed]);
}

#[test]
fn after_it_ended_a_persons_verdict_or_tags_are_an_update() {
    let (call, _, _) = play(&lifecycle(), true);
    let tagged = DispositionChange { tags: Some(["vip".to_owned()].into()), ..Default::default() };
    let after = call.dispose(&tagged, "jane", T0 + 100_000).expect("a change");
    assert_eq!(types(&webhook_events(Some(&call), &after, 11, true)), [EventType::Updated]);
    let not_a_lead = DispositionChange { lead_status: Some(Some(LeadStatus::NotALead)), ..Default::default() };
    let rejected = after.dispose(&not_a_lead, "jane", T0 + 110_000).expect("a change");
    assert_eq!(types(&webhook_events(Some(&after), &rejected, 12, true)), [EventType::Updated]);
    let good = DispositionChange { lead_status: Some(Some(LeadStatus::GoodLead)), ..Default::default() };
    let accepted = rejected.dispose(&good, "amy", T0 + 120_000).expect("a change");
    assert_eq!(types(&webhook_events(Some(&rejected), &accepted, 13, true)), [EventType::Qualified], "qualified says it all");
    assert!(webhook_events(Some(&accepted), &accepted, 14, true).is_empty(), "nothing a reader sees changed");
}

#[test]
fn a_recording_is_copied_once_and_only_with_its_account() {
    let call = Lifecycle::new(3);
    let answered = Call::apply(None, call.answer(Some(&number("acme", "jane", None))).call).unwrap().call;
    let recorded = Call::apply(Some(answered.clone()), call.recording("RecordVerb", 12, 30).call).unwrap().call;
    assert_eq!(recording_to_copy(Some(&answered), &recorded), Some(copy_of(&call, Some("acme"))));
    assert_eq!(recording_to_copy(Some(&recorded), &recorded), None, "already finished before this change");
    let copied = Call::apply(Some(recorded.clone()), CallUpdate::recording_copied(&copy_of(&call, Some("acme")), T0).call).unwrap().call;
    assert_eq!(recording_to_copy(None, &copied), None, "already in our bucket");
    let mut no_account = recorded.clone();
    no_account.account_sid = None;
    assert_eq!(recording_to_copy(Some(&answered), &no_account), None);
    let copy = copy_of(&call, None);
    assert_eq!(copy.key(), format!("unattributed/{}/{}.mp3", call.call_sid, call.recording_sid));
    assert_eq!(RecordingCopy::from_params(&copy.params()), Some(copy));
}

#[test]
fn a_payload_is_a_standard_webhook_with_the_call_and_its_version() {
    let (call, events, _) = play(&lifecycle(), true);
    let completed = events.iter().find(|e| e.event_type == EventType::Completed).unwrap();
    let json = serde_json::to_value(WebhookPayload::new(completed, &call)).unwrap();
    assert_eq!(json["type"], "call.completed");
    assert_eq!(json["timestamp"], "2030-01-02T17:01:07.15Z", "the call's last write");
    assert_eq!(json["data"]["callSid"], call.call_sid.as_str());
    assert_eq!(json["data"]["version"], completed.version);
    assert_eq!(json["data"]["tenantId"], "acme");
    assert_eq!(json["data"]["recording"]["stored"], true);
}

#[test]
fn event_types_read_back_from_their_names() {
    for event_type in EventType::ALL {
        assert_eq!(EventType::parse(event_type.as_str()), Some(event_type));
        assert_eq!(event_type.to_string(), event_type.as_str());
        assert_eq!(serde_json::to_value(event_type).unwrap(), event_type.as_str(), "as the payload's type");
    }
    assert_eq!(EventType::parse("call.answered"), None);
    assert_eq!(EventType::parse("started"), None);
}

#[test]
fn an_endpoint_hears_what_it_names_or_everything() {
    let endpoint = |events: Vec<EventType>| WebhookEndpoint {
        id: "ep_1".into(),
        url: "https://crm.example.com/hooks".into(),
        secret: "whsec_…".into(),
        events,
        created_at: T0,
    };
    assert!(EventType::ALL.into_iter().all(|t| endpoint(vec![]).wants(t)), "none named: all");
    let some = endpoint(vec![EventType::Completed, EventType::Recording]);
    let heard: Vec<EventType> = EventType::ALL.into_iter().filter(|t| some.wants(*t)).collect();
    assert_eq!(heard, [EventType::Completed, EventType::Recording]);
}

#[test]
fn two_reports_of_one_recording_merge_alike_in_either_order() {
    // The same finished recording reported twice with different details (a redelivery
    // after Twilio corrected its duration): equal ranks, so each field's greater is kept.
    let call = Lifecycle::new(4);
    let mut first = call.recording("DialVerb", 40, 50).call;
    let second = call.recording("DialVerb", 45, 50).call;
    first.recording.as_mut().unwrap().url = Some("https://api.twilio.com/z".into());
    let (ab, ba) = (first.clone().merge(second.clone()), second.merge(first));
    assert_eq!(ab, ba);
    let kept = ab.recording.unwrap();
    assert_eq!((kept.duration_seconds, kept.url.as_deref()), (Some(45), Some("https://api.twilio.com/z")));
}

#[test]
fn a_voicemail_after_the_call_ended_is_told_as_its_recording_alone() {
    let call = Lifecycle::new(5);
    let mut updates = vec![call.answer(Some(&number("acme", "jane", None))), call.parent_status(0, "completed", 40, Some(40))];
    updates.push(call.recording("RecordVerb", 20, 41));
    updates.push(CallUpdate::recording_copied(&copy_of(&call, Some("acme")), T0 + 60_000));
    let (after, events, _) = play(&updates, true);
    assert!(after.voicemail);
    assert_eq!(types(&events), [EventType::Started, EventType::Completed, EventType::Recording], "no call.updated for the voicemail");
}
