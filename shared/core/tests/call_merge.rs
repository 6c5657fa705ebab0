//! `Call::merge` on its own, without storage: any order of a call's callbacks,
//! with any of them repeated, merges into the same call.

use calltrack_core::call::{Call, CallUpdate, Changes, EventKind, ForeignAccount, Recording};
use calltrack_core::copy::RecordingCopy;
use calltrack_core::fixtures::*;
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_twilio::fields::{AccountSid, CallSid, Field, RecordingSid, RecordingStatus};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

fn lifecycle() -> Vec<CallUpdate> {
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(1);
    let mut updates = call.forwarded(Some(&number), 20, 45);
    updates.push(call.parent_status(1, "ringing", 0, None));
    // Its recording copied into our bucket: completes Twilio's report of it.
    let copy = RecordingCopy {
        call_sid: CallSid::parse("CallSid", &call.call_sid).unwrap(),
        account_sid: AccountSid::parse("AccountSid", call.account).unwrap(),
        recording_sid: RecordingSid::parse("RecordingSid", &call.recording_sid).unwrap(),
        tenant_id: Some("tenant-a".into()),
    };
    updates.push(CallUpdate::recording_copied(&copy, T0 + 90_000));
    updates
}

/// What storage does: each distinct event once, merged into what is there.
fn fold(updates: &[CallUpdate]) -> Call {
    let mut seen = HashSet::new();
    let mut call: Option<Call> = None;
    for update in updates.iter().filter(|u| seen.insert(u.event.id)) {
        call = Some(Call::apply(call.take(), update.call.clone()).expect("one account").call);
    }
    call.expect("at least one update")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_order_with_any_repeats_merges_into_the_same_call(
        order in Just((0..lifecycle().len()).collect::<Vec<_>>()).prop_shuffle(),
        repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let updates = lifecycle();
        let mut delivered: Vec<CallUpdate> = order.iter().map(|&i| updates[i].clone()).collect();
        for repeat in repeats {
            let again = delivered[repeat.index(delivered.len())].clone();
            delivered.insert(repeat.index(delivered.len() + 1), again);
        }
        prop_assert_eq!(fold(&delivered), fold(&updates));
    }

    #[test]
    fn a_call_never_bridged_is_unanswered_in_any_order(order in Just((0..8).collect::<Vec<_>>()).prop_shuffle()) {
        let updates = Lifecycle::new(2).never_bridged(Some(&number("tenant-a", "user-1", None)), 20, 40);
        let delivered: Vec<CallUpdate> = order.iter().map(|&i| updates[i].clone()).collect();
        let call = fold(&delivered);
        prop_assert_eq!(&call, &fold(&updates));
        prop_assert!(!call.answered && !call.qualified, "{}", call.qualification_reason);
    }

    #[test]
    fn merge_is_commutative_and_idempotent(a in 0..lifecycle().len(), b in 0..lifecycle().len()) {
        let updates = lifecycle();
        let (a, b) = (updates[a].call.clone(), updates[b].call.clone());
        prop_assert_eq!(a.clone().merge(b.clone()), b.clone().merge(a.clone()));
        prop_assert_eq!(a.clone().merge(a.clone()), a);
    }
}

#[test]
fn the_status_never_moves_backwards() {
    let call = Lifecycle::new(2);
    let completed = call.parent_status(3, "completed", 50, Some(50)).call;
    let ringing = call.parent_status(1, "ringing", 1, None).call;
    let merged = completed.clone().merge(ringing.clone());
    assert_eq!(merged.status, completed.status);
    assert_eq!(ringing.merge(completed.clone()).status, completed.status);
}

fn recording(call: &Call, n: u64, status: RecordingStatus, source: &str) -> Call {
    let mut with = Call::new(call.call_sid, T0);
    with.recording = Some(Recording {
        sid: RecordingSid::parse("RecordingSid", &sid("RE", n)).unwrap(),
        status,
        url: None,
        duration_seconds: Some(20),
        channels: Some(1),
        source: Some(source.into()),
        bucket_key: None,
    });
    with
}

#[test]
fn the_better_recording_is_kept_in_either_order() {
    let call = Lifecycle::new(3).answer(None).call;
    // A voicemail left, then an empty `<Record>` reported under a greater SID:
    // the call keeps the voicemail, whichever arrives first.
    let left = recording(&call, 1, RecordingStatus::Completed, "RecordVerb");
    let empty = recording(&call, 2, RecordingStatus::Absent, "RecordVerb");
    for merged in [left.clone().merge(empty.clone()), empty.merge(left.clone())] {
        assert_eq!(merged.recording, left.recording);
        assert!(merged.voicemail, "a completed RecordVerb recording is a voicemail");
    }
    // Of one recording, the finished report wins over the one in progress.
    let done = recording(&call, 5, RecordingStatus::Completed, "DialVerb");
    let going = recording(&call, 5, RecordingStatus::InProgress, "DialVerb");
    assert_eq!(going.clone().merge(done.clone()).recording, done.recording);
    assert_eq!(done.clone().merge(going).recording, done.recording);
    assert!(!done.merge(call).voicemail, "a recorded conversation is not a voicemail");
}

#[test]
fn crm_links_are_joined_by_a_merge() {
    let base = Lifecycle::new(4).answer(None).call;
    let linked = |pairs: &[(&str, &str)]| {
        let mut call = base.clone();
        call.crm = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        call
    };
    let contact = linked(&[("contactId", "c-1")]);
    let deal = linked(&[("dealId", "d-7"), ("contactId", "c-2")]);
    let expected: BTreeMap<String, String> = [("contactId", "c-2"), ("dealId", "d-7")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
    assert_eq!(contact.clone().merge(deal.clone()).crm, expected);
    assert_eq!(deal.merge(contact.clone()).crm, expected);
    assert_eq!(contact.clone().merge(base.clone()).crm, contact.crm, "a callback without links keeps them");
}

#[test]
fn apply_says_what_each_callback_changed() {
    let owner = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(5);
    let updates = call.forwarded(Some(&owner), 20, 45);
    let mut stored = None;
    let mut changes = Vec::new();
    for update in &updates {
        let applied = Call::apply(stored.take(), update.call.clone()).expect("one account");
        changes.push(applied.changes);
        stored = Some(applied.call);
    }
    assert_eq!(changes[0], Changes { created: true, newly_qualified: false, newly_attributed: true }, "the answer");
    assert!(changes[1..].iter().all(|c| !c.created && !c.newly_attributed));
    let qualified_by: Vec<_> = changes.iter().map(|c| c.newly_qualified).collect();
    // The Dial outcome gives the talk time, the parent's completed status the ending.
    assert_eq!(qualified_by, [false, false, false, false, false, false, true, false]);
    let stored = stored.unwrap();
    assert!(stored.qualified && stored.attributed);

    // A call stored without its owner (its answer was lost) gets one from the
    // owner update; not forwarded as far as it is known, its 67 s qualify it.
    let unowned = Call::apply(None, call.parent_status(0, "completed", 70, Some(67)).call).unwrap();
    assert_eq!(unowned.changes, Changes { created: true, newly_qualified: true, newly_attributed: false });
    let sid = unowned.call.call_sid;
    let claimed = Call::apply(Some(unowned.call), CallUpdate::owner(sid, &owner, T0).call).unwrap();
    assert_eq!(claimed.changes, Changes { created: false, newly_qualified: false, newly_attributed: true });
    assert_eq!(claimed.call.tenant_id.as_deref(), Some("tenant-a"));
}

#[test]
fn status_callbacks_are_told_apart_by_leg_sequence_number_and_status() {
    let call = Lifecycle::new(6);
    let first = call.parent_status(1, "ringing", 1, None);
    assert_eq!(first.event.sequence_number(), Some(1));
    assert_eq!(first.event.kind(), EventKind::Status);
    let ids = [
        first.event.id,
        call.parent_status(2, "ringing", 1, None).event.id,
        call.parent_status(1, "in-progress", 1, None).event.id,
        call.child_status(1, "ringing", 1, None).event.id,
    ];
    let distinct: HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    assert_eq!(call.parent_status(1, "ringing", 9, None).event.id, first.event.id, "a redelivery is the same callback");
    let child = call.child_status(3, "completed", 50, Some(45));
    assert_eq!(child.event.call_sid, first.event.call_sid, "a child leg's events are filed under its parent");
    assert_eq!(child.event.sequence_number(), Some(3));
}

#[test]
fn a_forwarded_call_merges_into_its_facts_even_without_its_answer_or_dial_outcome() {
    let owner = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(7);
    // Rings 20 s at the business, talks 45 s: the parent leg lasts 67 s from T0.
    let updates = call.forwarded(Some(&owner), 20, 45);
    let whole = fold(&updates);
    assert!(whole.forwarded && whole.answered && whole.attributed);
    assert_eq!((whole.started_at, whole.ended_at, whole.duration_seconds), (T0, Some(T0 + 67_000), Some(67)));
    assert_eq!((whole.dial_talk_seconds, whole.child_talk_seconds, whole.talk_seconds), (Some(45), Some(45), Some(45)));
    assert_eq!((whole.qualified, whole.qualification_reason.as_str()), (true, "qualified: talked 45 s"));

    // Storage was down for the answer and the dial-result: the callbacks that
    // are redelivered still give the start, the forward and the talk time.
    let callbacks: Vec<CallUpdate> =
        updates.into_iter().filter(|u| !matches!(u.event.kind(), EventKind::Answer | EventKind::Dial)).collect();
    let recovered = fold(&callbacks);
    assert!(recovered.forwarded, "only our <Dial> makes child legs");
    assert_eq!((recovered.started_at, recovered.ended_at), (T0, Some(T0 + 67_000)), "the start is the end less CallDuration");
    assert_eq!((recovered.dial_talk_seconds, recovered.child_talk_seconds, recovered.talk_seconds), (None, Some(45), Some(45)));
    assert_eq!(recovered.qualification_reason, "qualified: talked 45 s");

    // A child leg's duration counts as talk time only once the leg completed.
    let ringing = call.child_status(1, "ringing", 1, Some(9)).call;
    assert_eq!(ringing.child_talk_seconds, None);
    let status = call.parent_status(3, "completed", 67, Some(67));
    assert_eq!(status.event.occurred_at, Some(T0 + 67_000), "Twilio's Timestamp");
}

#[test]
fn each_event_kind_has_one_name() {
    let kinds = [EventKind::Answer, EventKind::Status, EventKind::Dial, EventKind::Recording, EventKind::Owner];
    let names: Vec<_> = kinds.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, ["answer", "status", "dial", "recording", "owner"]);
    for kind in kinds {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str(), "its JSON is the same name");
    }
}

fn account(sid: &str) -> AccountSid {
    AccountSid::parse("AccountSid", sid).unwrap()
}

#[test]
fn every_callback_carries_its_account_and_the_call_keeps_it() {
    let a = account(ACCOUNT);
    let call = Lifecycle::new(8);
    let updates = call.forwarded(Some(&number("tenant-a", "user-1", None)), 20, 45);
    for update in &updates {
        assert_eq!(update.call.account_sid, Some(a), "{:?}", update.event.id);
    }
    assert_eq!(fold(&updates).account_sid, Some(a), "answer, child and parent legs, dial outcome, recording");

    // Facts that know no account (an owner from an unbound number, a call
    // stored before accounts were) take the known one, in either order.
    let known = call.parent_status(0, "ringing", 0, None).call;
    let unknown = Call { account_sid: None, ..known.clone() };
    assert_eq!(known.clone().merge(unknown.clone()).account_sid, Some(a));
    assert_eq!(unknown.clone().merge(known.clone()).account_sid, Some(a));
    let stored = Call::apply(Some(unknown), known.clone()).unwrap();
    assert_eq!(stored.call.account_sid, Some(a), "a call stored before accounts takes its callbacks' account");
    let owner = CallUpdate::owner(known.call_sid, &number("tenant-a", "user-1", None), T0).call;
    assert_eq!(owner.account_sid, None, "an unbound number's owner update knows no account");
    assert_eq!(Call::apply(Some(known), owner).unwrap().call.account_sid, Some(a));
}

#[test]
fn a_callback_from_another_account_is_refused_and_the_call_keeps_its_own() {
    let (a, b) = (account(ACCOUNT), account(OTHER_ACCOUNT));
    let ours = Lifecycle::new(9);
    let theirs = ours.clone().in_account(OTHER_ACCOUNT);
    let stored = Call::apply(None, ours.answer(Some(&number("tenant-a", "user-1", None))).call).unwrap().call;
    for update in
        [theirs.parent_status(1, "completed", 60, Some(60)), theirs.dial("completed", Some(45), 50), theirs.recording("DialVerb", 45, 61)]
    {
        assert_eq!(update.call.account_sid, Some(b));
        let refused = Call::apply(Some(stored.clone()), update.call.clone()).unwrap_err();
        assert_eq!(refused, ForeignAccount { call_sid: stored.call_sid, call_account: a, callback_account: b }, "{:?}", update.event.id);
        assert_eq!(stored.foreign_account(&update.call), Some(refused));
    }
    // The same account, or facts that know none, are the call's own.
    assert_eq!(stored.foreign_account(&ours.parent_status(1, "completed", 60, Some(60)).call), None);
    assert_eq!(stored.foreign_account(&Call::new(stored.call_sid, T0)), None);
    assert_eq!(Call { account_sid: None, ..stored.clone() }.foreign_account(&theirs.dial("busy", None, 5).call), None);
    // A number bound to B gives no owner's update a chance on A's call.
    let bound_to_b = TrackingNumber { account_sid: Some(b), ..number("tenant-b", "user-9", None) };
    let claim = CallUpdate::owner(stored.call_sid, &bound_to_b, T0).call;
    assert_eq!(claim.account_sid, Some(b), "the owner update carries the number's account");
    assert!(Call::apply(Some(stored), claim).is_err());
}

#[test]
fn a_number_bound_to_another_account_gives_the_answer_no_owner() {
    let a = account(ACCOUNT);
    let call = Lifecycle::new(10).in_account(OTHER_ACCOUNT);
    let bound_to_a = TrackingNumber { account_sid: Some(a), ..number("tenant-a", "user-1", None) };
    let answered = call.answer(Some(&bound_to_a)).call;
    assert_eq!((answered.tenant_id, answered.user_id, answered.attributed), (None, None, false));
    assert_eq!(answered.account_sid, Some(account(OTHER_ACCOUNT)));
    // The number's own account's call, and any account's call to an unbound number, get their owner.
    let own = Lifecycle::new(11).answer(Some(&bound_to_a)).call;
    assert_eq!((own.tenant_id.as_deref(), own.attributed), (Some("tenant-a"), true));
    let unbound = call.answer(Some(&number("tenant-a", "user-1", None))).call;
    assert_eq!((unbound.tenant_id.as_deref(), unbound.attributed), (Some("tenant-a"), true));
}

/// The business's voicemail picks up a screened, forwarded call: the Dial
/// is `completed`, 40 s long, and never bridged. That is no conversation: not
/// answered, not qualified; the same call bridged is both, as it is when
/// Twilio says nothing of bridging.
#[test]
fn a_forwarded_call_the_business_never_took_is_not_a_lead() {
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(3);
    let voicemail = fold(&call.never_bridged(Some(&number), 20, 40));
    assert_eq!(
        (voicemail.answered, voicemail.qualified, voicemail.qualification_reason.as_str(), voicemail.dial_bridged),
        (false, false, "not answered: never bridged to the business", Some(false))
    );
    let mut bridged = call.forwarded(Some(&number), 20, 40);
    bridged[5] = call.dial_bridged("completed", Some(40), Some(true), 61);
    let bridged = fold(&bridged);
    assert_eq!((bridged.answered, bridged.qualified, bridged.qualification_reason.as_str()), (true, true, "qualified: talked 40 s"));
    let unsaid = fold(&call.forwarded(Some(&number), 20, 40));
    assert_eq!((unsaid.answered, unsaid.qualified, unsaid.dial_bridged), (true, true, None));
}
