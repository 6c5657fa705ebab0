//! What a call puts in the calls' index (listing entries, counters), how each
//! change moves it, and a person's verdict on a call.

use calltrack_core::call::{Call, CallUpdate};
use calltrack_core::call_index::{
    Counted, CounterKey, Counts, Dimension, Filter, LISTING_SHARDS, Listing, counter_changes, counters, listings, recount, shard,
    talk_bucket,
};
use calltrack_core::disposition::{DispositionChange, LeadStatus, Verdict};
use calltrack_core::fixtures::*;
use calltrack_core::view::CallSummary;
use std::collections::BTreeMap;

fn fold(updates: &[CallUpdate]) -> Call {
    updates.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).expect("one account").call)).unwrap()
}

/// A forwarded call of tenant `acme`, answered after 20 s and talked 45 s, whole.
fn answered() -> Call {
    fold(&Lifecycle::new(1).forwarded(Some(&number("acme", "jane", None)), 20, 45))
}

fn verdict(status: Option<LeadStatus>) -> DispositionChange {
    DispositionChange { lead_status: Some(status), ..DispositionChange::default() }
}

fn entries(call: &Call) -> Vec<(&'static str, String)> {
    let name = |listing| match listing {
        Listing::All => ("all", String::new()),
        Listing::Qualified => ("qualified", String::new()),
        Listing::By(filter, value) => (filter.name(), value),
    };
    listings(call).into_iter().map(|e| name(e.listing)).collect()
}

#[test]
fn a_call_is_listed_under_each_of_its_filter_values() {
    let mut call = answered().with_prior_calls(0);
    call.crm = [("contactId", "c-1"), ("dealId", "d-2"), ("jobId", "j-3"), ("crm_x", "y")].map(|(k, v)| (k.into(), v.into())).into();
    let change = DispositionChange { tags: Some(["vip".to_owned(), "quote".to_owned()].into()), ..verdict(Some(LeadStatus::Spam)) };
    let call = call.dispose(&change, "jane", T0 + 100_000).unwrap();
    assert_eq!(
        entries(&call),
        [
            ("all", String::new()),
            ("trackingNumber", TRACKING.to_owned()),
            ("leadSource", "Google Ads".into()),
            ("answered", "true".into()),
            ("direction", "inbound".into()),
            ("firstTimeCaller", "true".into()),
            ("leadStatus", "spam".into()),
            ("tag", "quote".into()),
            ("tag", "vip".into()),
            ("contactId", "c-1".into()),
            ("dealId", "d-2".into()),
            ("jobId", "j-3".into()),
            ("caller", CALLER.into()),
        ]
    );
    let entry = listings(&call).into_iter().next().unwrap();
    assert_eq!((entry.tenant.as_str(), entry.started_at, entry.call_sid.as_str()), ("acme", call.started_at, call.call_sid.as_str()));
    // Not yet counted: no first-time entry; a second call from the caller: `false`.
    assert!(!entries(&answered()).iter().any(|(f, _)| *f == "firstTimeCaller"));
    assert!(entries(&answered().with_prior_calls(3)).contains(&("firstTimeCaller", "false".into())));
    // No tenant, no entries and no counts.
    let nobodys = fold(&Lifecycle::new(2).forwarded(None, 20, 45));
    assert!(listings(&nobodys).is_empty() && counters((&nobodys).into()).is_empty());
}

#[test]
fn a_placed_call_is_listed_under_its_customer_as_a_call_in_is_under_its_caller() {
    use calltrack_core::placement::Placement;
    use calltrack_twilio::fields::{AccountSid, CallSid, Field, PhoneNumber};
    let number = number("acme", "jane", None);
    let placement = Placement {
        agent: number.forward_to.clone(),
        number,
        user_id: "bob".into(),
        customer: PhoneNumber::e164("to", CALLER).unwrap(),
        record: true,
        crm: BTreeMap::new(),
    };
    let call_sid = CallSid::parse("CallSid", &sid("CA", 9)).unwrap();
    let placed = CallUpdate::placed(call_sid, AccountSid::parse("a", &sid("AC", 1)).unwrap(), &placement, T0).call;
    assert_eq!(placed.customer().map(PhoneNumber::as_str), Some(CALLER), "whom it called, not the tracking number it called from");
    assert!(entries(&placed).contains(&("caller", CALLER.into())), "a contact's number finds its calls in and out");
    assert_eq!(answered().customer().map(PhoneNumber::as_str), Some(CALLER));
}

#[test]
fn filters_and_groupings_have_one_name_each() {
    let names: Vec<&str> = Filter::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "trackingNumber",
            "leadSource",
            "answered",
            "direction",
            "firstTimeCaller",
            "leadStatus",
            "tag",
            "contactId",
            "dealId",
            "jobId",
            "caller"
        ]
    );
    let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(names, ["day", "leadSource", "user", "trackingNumber"]);
}

#[test]
fn the_listings_most_calls_write_are_sharded_by_call() {
    let call = answered().with_prior_calls(0);
    assert!(entries(&call).contains(&("qualified", String::new())), "a qualified call is in the tenant's qualified listing");
    let spam = call.dispose(&verdict(Some(LeadStatus::Spam)), "jane", T0 + 100_000).unwrap();
    assert!(!entries(&spam).contains(&("qualified", String::new())), "spam leaves it");
    let shards: Vec<(&'static str, Option<u8>)> = listings(&call)
        .into_iter()
        .map(|e| {
            let name = match &e.listing {
                Listing::All => "all",
                Listing::Qualified => "qualified",
                Listing::By(filter, _) => filter.name(),
            };
            (name, e.shard())
        })
        .collect();
    let own = Some(shard(call.call_sid.as_str()) % LISTING_SHARDS);
    assert_eq!(
        shards,
        [
            ("all", own),
            ("qualified", own),
            ("trackingNumber", None),
            ("leadSource", own),
            ("answered", own),
            ("direction", own),
            ("firstTimeCaller", own),
            ("caller", None),
        ]
    );
    let used: std::collections::BTreeSet<Option<u8>> = (1..=64)
        .map(|n| listings(&fold(&Lifecycle::new(n).forwarded(Some(&number("acme", "jane", None)), 20, 45))))
        .map(|entries| entries.into_iter().next().unwrap().shard())
        .collect();
    assert_eq!(used, (0..LISTING_SHARDS).map(Some).collect(), "64 calls use every shard, and no other");
}

fn only(changes: BTreeMap<CounterKey, Counts>, dimension: Dimension) -> Counts {
    let mut found: Vec<Counts> = changes.into_iter().filter(|(k, _)| k.dimension == dimension).map(|(_, c)| c).collect();
    assert_eq!(found.len(), 1, "one counter of each grouping");
    found.remove(0)
}

#[test]
fn each_change_adds_its_difference_to_the_counts() {
    let updates = Lifecycle::new(1).forwarded(Some(&number("acme", "jane", None)), 20, 45);
    let ringing = fold(&updates[..1]).with_prior_calls(0);
    let new = only(counter_changes(None, Some(&ringing)), Dimension::LeadSource);
    assert_eq!(new, Counts { calls: 1, first_time_callers: 1, ..Counts::default() }, "a call in progress is neither answered nor missed");
    let done = fold(&updates).with_prior_calls(0);
    let ended = only(counter_changes(Some(&ringing), Some(&done)), Dimension::User);
    assert_eq!(ended, Counts { answered: 1, qualified: 1, talk_seconds: 45, talk: [(45, 1)].into(), ..Counts::default() });
    let spam = done.dispose(&verdict(Some(LeadStatus::Spam)), "jane", T0 + 100_000).unwrap();
    assert_eq!(only(counter_changes(Some(&done), Some(&spam)), Dimension::Day), Counts { qualified: -1, ..Counts::default() });
    assert!(counter_changes(Some(&spam), Some(&spam)).is_empty(), "no change, no write");
    let erased = only(counter_changes(Some(&spam), None), Dimension::TrackingNumber);
    assert_eq!(
        erased,
        Counts { calls: -1, answered: -1, first_time_callers: -1, talk_seconds: -45, talk: [(45, -1)].into(), ..Counts::default() }
    );
    // A call that moves to another day leaves the first day's counter and joins the other's.
    let mut earlier = done.clone();
    earlier.started_at -= 86_400_000;
    let moved = counter_changes(Some(&done), Some(&earlier));
    let days: Vec<(String, i64)> =
        moved.iter().filter(|(k, _)| k.dimension == Dimension::Day).map(|(k, c)| (k.day.clone(), c.calls)).collect();
    assert_eq!(days, [("2030-01-01".to_owned(), 1), ("2030-01-02".to_owned(), -1)]);
}

#[test]
fn a_missed_call_a_voicemail_and_the_keys_of_its_counters() {
    let number = number("acme", "jane", None);
    let call = Lifecycle::new(3);
    let voicemail = fold(&[
        call.answer(Some(&number)),
        call.dial("no-answer", None, 30),
        call.recording("RecordVerb", 12, 50),
        call.parent_status(0, "completed", 50, Some(50)),
    ]);
    let counts = Counts::of((&voicemail).into());
    assert_eq!(counts, Counts { calls: 1, missed: 1, voicemails: 1, ..Counts::default() });
    let keys: Vec<(Dimension, String, String, u8)> =
        counters((&voicemail).into()).into_keys().map(|k| (k.dimension, k.day, k.value, k.shard)).collect();
    let (day, at) = ("2030-01-02".to_owned(), shard(voicemail.call_sid.as_str()));
    assert_eq!(
        keys,
        [
            (Dimension::Day, day.clone(), String::new(), at),
            (Dimension::LeadSource, day.clone(), "Google Ads".into(), at),
            (Dimension::User, day.clone(), "jane".into(), at),
            (Dimension::TrackingNumber, day, TRACKING.into(), at)
        ]
    );
}

#[test]
fn counts_add_up_and_take_away_to_nothing() {
    let a = Counts {
        calls: 2,
        answered: 1,
        missed: 1,
        qualified: 1,
        first_time_callers: 1,
        voicemails: 1,
        talk_seconds: 40,
        talk: [(40, 1)].into(),
    };
    let mut sum = Counts::default();
    sum.add(&a, 1);
    sum.add(&a, 1);
    assert_eq!(
        sum,
        Counts {
            calls: 4,
            answered: 2,
            missed: 2,
            qualified: 2,
            first_time_callers: 2,
            voicemails: 2,
            talk_seconds: 80,
            talk: [(40, 2)].into()
        }
    );
    sum.add(&a, -1);
    assert_eq!(sum, a);
    sum.add(&a, -1);
    assert!(sum.is_zero() && sum.talk.is_empty(), "{sum:?}");
    assert!(!a.is_zero());
    sum.add(&Counts { talk: [(40, 3)].into(), ..Counts::default() }, 1);
    assert_eq!(sum.talk, [(40, 3)].into());
}

#[test]
fn no_median_without_answered_calls() {
    assert_eq!(Counts::default().median_talk_seconds(), None);
    let cancelled = Counts { talk: [(5, 1), (7, -1)].into(), ..Counts::default() };
    assert_eq!(cancelled.median_talk_seconds(), None, "a difference that adds up to no call");
}

#[test]
fn a_recount_groups_calls_as_the_counters_do() {
    let jane = answered();
    let bob = fold(&Lifecycle::new(4).forwarded(Some(&number("acme", "bob", None)), 20, 5));
    let summaries = [CallSummary::from(&jane), CallSummary::from(&bob)];
    let by_user = recount(summaries.iter().map(Counted::from), Dimension::User);
    assert_eq!(by_user.keys().collect::<Vec<_>>(), ["bob", "jane"]);
    assert_eq!((by_user["jane"].qualified, by_user["bob"].qualified, by_user["bob"].talk_seconds), (1, 0, 5));
    let by_day = recount([Counted::from(&jane), Counted::from(&bob)], Dimension::Day);
    assert_eq!((by_day.len(), by_day["2030-01-02"].calls, by_day["2030-01-02"].median_talk_seconds()), (1, 2, Some(talk_bucket(5))));
}

#[test]
fn a_persons_verdict_overrides_the_rule_and_says_so() {
    let short = fold(&Lifecycle::new(5).forwarded(Some(&number("acme", "jane", None)), 20, 10));
    assert_eq!((short.qualified, short.verdict), (false, Verdict::Automatic));
    let good = short.dispose(&verdict(Some(LeadStatus::GoodLead)), "jane", T0 + 100_000).unwrap();
    assert_eq!((good.qualified, good.verdict), (true, Verdict::Manual));
    assert_eq!(good.qualification_reason, "marked good-lead by jane (the rule said: too short: 10 s < 30 s)");
    assert_eq!(good.updated_at, T0 + 100_000);
    assert_eq!(good.dispose(&verdict(Some(LeadStatus::GoodLead)), "bob", T0 + 200_000), None, "the same verdict changes nothing");
    let cleared = good.dispose(&verdict(None), "bob", T0 + 200_000).unwrap();
    assert_eq!(
        (cleared.qualified, cleared.verdict, cleared.qualification_reason.as_str()),
        (false, Verdict::Automatic, "too short: 10 s < 30 s")
    );
    let not_a_lead = answered().dispose(&verdict(Some(LeadStatus::NotALead)), "jane", T0 + 100_000).unwrap();
    assert!(!not_a_lead.qualified);
    // Later callbacks keep the verdict: the merge keeps the later disposition whatever the order.
    let later = Lifecycle::new(5).recording("DialVerb", 10, 90);
    assert_eq!(Call::apply(Some(good.clone()), later.call.clone()).unwrap().call.disposition, good.disposition);
    assert_eq!(later.call.clone().merge(good.clone()).disposition, good.disposition);
}

#[test]
fn answered_means_the_business_picked_up() {
    let call = Lifecycle::new(6);
    let number = number("acme", "jane", None);
    let unanswered =
        fold(&[call.answer(Some(&number)), call.dial("no-answer", None, 30), call.parent_status(0, "completed", 50, Some(50))]);
    assert!(!unanswered.answered, "we answered with <Dial>; the business did not pick up");
    assert!(answered().answered);
    let direct = fold(&[call.parent_status(0, "completed", 50, Some(50))]);
    assert!(direct.answered && !direct.forwarded, "not forwarded: the call itself was answered");
}

#[test]
fn prior_calls_are_counted_once_and_the_fewer_wins() {
    let call = answered();
    assert_eq!((call.prior_calls, call.first_time_caller), (None, false));
    let first = call.clone().with_prior_calls(0);
    assert_eq!((first.prior_calls, first.first_time_caller), (Some(0), true));
    let third = call.clone().with_prior_calls(2);
    assert!(!third.first_time_caller);
    assert_eq!(first.clone().merge(third.clone()).prior_calls, Some(0));
    assert_eq!(third.merge(first.clone()).prior_calls, Some(0));
    assert_eq!(call.merge(first).prior_calls, Some(0));
}
