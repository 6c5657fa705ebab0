//! The DynamoDB store, on DynamoDB Local with the tables template.yaml defines:
//! duplicates, every order, concurrency, qualification, attribution, tenant
//! isolation, and accounts (a callback from another account writes nothing).

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::call::{CallUpdate, EventId, EventKind, ForeignAccount};
use calltrack_core::fixtures::*;
use calltrack_core::ports::{LookUpNumbers, ManageNumbers, ManageTenantNumbers, ReadCalls, RecordCalls, Recorded};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallQuery, CallSummary, CallView, Cursor, Scope, TenantId};
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::testing::{config, sibling, store, unique_tables};
use calltrack_twilio::fields::{AccountSid, CallSid, CallStatus, DialCallStatus, Field, PhoneNumber, RecordingSid};
use std::collections::HashMap;

async fn record_all(store: &DynamoStore, updates: &[CallUpdate]) -> (usize, usize) {
    let (mut applied, mut duplicates) = (0, 0);
    for update in updates {
        match store.record(update).await.expect("recorded") {
            Recorded::Applied(_) => applied += 1,
            Recorded::Duplicate { .. } => duplicates += 1,
            Recorded::ForeignAccount(refused) => panic!("{refused:?}"),
        }
    }
    (applied, duplicates)
}

fn tenant_id(tenant: &str) -> TenantId {
    TenantId::parse("tenant", tenant).unwrap()
}

fn call_sid(call: &Lifecycle) -> CallSid {
    CallSid::parse("CallSid", &call.call_sid).unwrap()
}

async fn stored(store: &DynamoStore, call: &Lifecycle) -> CallView {
    store.call(&Scope::Operator, &call_sid(call)).await.unwrap().expect("the call is stored")
}

/// A call with the SIDs that differ between otherwise identical lifecycles
/// replaced, so that their calls can be compared.
fn without_sids(mut call: CallSummary) -> CallSummary {
    let lifecycle = Lifecycle::new(0);
    call.call_sid = call_sid(&lifecycle);
    if let Some(recording) = call.recording.as_mut() {
        recording.sid = RecordingSid::parse("RecordingSid", &lifecycle.recording_sid).unwrap();
        recording.url = None;
    }
    call
}

/// A call without its events, to compare calls whose events were received at other times.
fn without_events(view: CallView) -> CallView {
    CallView { events: Vec::new(), ..view }
}

/// The call's item as stored, storage's own attributes included.
async fn item(store: &DynamoStore, call: &Lifecycle) -> HashMap<String, AttributeValue> {
    let key = AttributeValue::S(call.call_sid.clone());
    let output = store.client().get_item().table_name(&store.tables().calls).key("callSid", key).send().await.unwrap();
    output.item.expect("the call is stored")
}

#[tokio::test]
async fn a_forwarded_call_is_stored_with_its_owner_events_and_qualification() {
    let store = store().await;
    store.put_tracking_number(&number("tenant-a", "user-1", None)).await.unwrap();
    let owner = store.tracking_number(&PhoneNumber::e164("To", TRACKING).unwrap()).await.unwrap();
    assert_eq!(owner, Some(number("tenant-a", "user-1", None)));
    let call = Lifecycle::new(1);
    assert_eq!(record_all(&store, &call.forwarded(owner.as_ref(), 20, 45)).await, (8, 0));

    let detail = stored(&store, &call).await;
    let c = &detail.summary;
    assert_eq!(
        (c.tenant_id.as_deref(), c.user_id.as_deref(), c.lead_source.as_deref()),
        (Some("tenant-a"), Some("user-1"), Some("Google Ads"))
    );
    assert!(c.attributed && c.forwarded && c.answered);
    assert_eq!((c.status, c.dial_status), (Some(CallStatus::Completed), Some(DialCallStatus::Completed)));
    assert_eq!((c.duration_seconds, c.talk_seconds), (Some(67), Some(45)));
    assert_eq!((c.qualified, c.qualification_reason.as_str()), (true, "qualified: talked 45 s"));
    assert_eq!((c.started_at, c.ended_at), (T0, Some(T0 + 67_000)));
    assert_eq!(
        (c.caller_name.as_deref(), c.caller_city.as_deref(), c.caller_state.as_deref()),
        (Some("Ada Lovelace"), Some("NEW YORK"), Some("NY"))
    );
    let recording = c.recording.as_ref().unwrap();
    assert_eq!((recording.duration_seconds, recording.channels, recording.source.as_deref()), (Some(45), Some(2), Some("DialVerb")));
    assert!(!c.voicemail);
    // Storage's own attributes: the version counts the callbacks merged, the
    // user's key puts the call in its user's list, and its index entries are
    // keyed as today's index version keys them.
    let item = item(&store, &call).await;
    let attribute = |name: &str| item.get(name).map(|v| v.as_s().or(v.as_n()).unwrap().as_str());
    assert_eq!(attribute("version"), Some("8"));
    assert_eq!(attribute("tenantUser"), Some("tenant-a#user-1"));
    assert_eq!(item.get("indexed"), Some(&AttributeValue::Bool(true)), "counted: a release that knows no versions sees it so");
    assert_eq!(attribute("indexVersion"), Some("2"));
    assert_eq!(attribute("qualifiedTenantId"), None, "the retired index of qualified calls gets no new call");

    let kinds: Vec<_> = detail.events.iter().map(|e| (e.kind, e.status.clone().unwrap())).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Answer, "ringing".into()),
            (EventKind::Status, "initiated".into()),
            (EventKind::Status, "ringing".into()),
            (EventKind::Status, "in-progress".into()),
            (EventKind::Dial, "completed".into()),
            (EventKind::Status, "completed".into()),
            (EventKind::Status, "completed".into()),
            (EventKind::Recording, "completed".into()),
        ],
        "events in the order they came in (the Dial outcome 40 ms before the child leg's last status)"
    );
    let sequence: Vec<_> = detail.events.iter().filter(|e| e.kind == EventKind::Status).map(|e| e.sequence_number).collect();
    assert_eq!(sequence, [Some(0), Some(1), Some(2), Some(3), Some(0)], "child legs 0 to 3, then the parent's 0");
    let keys: Vec<_> = detail.events.iter().map(|e| e.event_key.as_str()).collect();
    assert_eq!(keys[0], "answer");
    assert_eq!(keys[1], format!("status#{}#00000#initiated", call.child_sid));
    assert_eq!(keys[6], "status#parent#00000#completed");
    assert_eq!(keys[7], format!("recording#{}#completed", call.recording_sid));
    assert_eq!(detail.events[0].params.get("CallerName"), Some("Ada Lovelace"), "raw parameters are kept");
    assert!(detail.events.windows(2).all(|w| w[0].received_at <= w[1].received_at), "in the order received");
}

#[tokio::test]
async fn events_expire_after_the_retention() {
    let store = store().await;
    let call = Lifecycle::new(2);
    store.record(&call.answer(None)).await.unwrap();
    let item = store
        .client()
        .get_item()
        .table_name(&store.tables().events)
        .key("callSid", aws_sdk_dynamodb::types::AttributeValue::S(call.call_sid.clone()))
        .key("eventKey", aws_sdk_dynamodb::types::AttributeValue::S("answer".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires_at: i64 = item["expiresAt"].as_n().unwrap().parse().unwrap();
    assert_eq!(expires_at, T0 / 1000 + 90 * 86_400);
}

#[tokio::test]
async fn every_callback_delivered_twice_gives_the_same_call_and_one_event_each() {
    let once = store().await;
    let twice = store().await;
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(3);
    let updates = call.forwarded(Some(&number), 20, 45);
    assert_eq!(record_all(&once, &updates).await, (8, 0));
    // Each callback again right after itself, then the whole lifecycle again,
    // through a second Lambda that remembers nothing.
    let doubled: Vec<_> = updates.iter().flat_map(|u| [u.clone(), u.clone()]).collect();
    assert_eq!(record_all(&twice, &doubled).await, (8, 8));
    assert_eq!(record_all(&sibling(&twice), &updates).await, (0, 8));

    let (single, double) = (stored(&once, &call).await, stored(&twice, &call).await);
    assert_eq!(without_events(double.clone()), without_events(single.clone()));
    assert_eq!(double.events.len(), 8);
    assert_eq!(double.events, single.events);
}

/// Every permutation of `items`.
fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    (0..items.len())
        .flat_map(|i| {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            permutations(&rest).into_iter().map(move |mut p| {
                p.insert(0, first.clone());
                p
            })
        })
        .collect()
}

#[tokio::test]
async fn every_order_of_a_five_callback_lifecycle_gives_the_same_call() {
    let store = store().await;
    let lifecycle = |call: &Lifecycle| {
        vec![
            call.parent_status(0, "initiated", 0, None),
            call.parent_status(1, "ringing", 1, None),
            call.parent_status(2, "in-progress", 6, None),
            call.parent_status(3, "completed", 48, Some(42)),
            call.recording("DialVerb", 41, 49),
        ]
    };
    let orders = permutations(&[0usize, 1, 2, 3, 4]);
    assert_eq!(orders.len(), 120);
    let mut finals = Vec::new();
    for (n, order) in orders.iter().enumerate() {
        let call = Lifecycle::new(1000 + n as u64);
        let updates = lifecycle(&call);
        // A fresh Lambda for every call: no write starts from a remembered version.
        let lambda = sibling(&store);
        for &i in order {
            assert!(matches!(lambda.record(&updates[i]).await.unwrap(), Recorded::Applied(_)));
        }
        let detail = stored(&store, &call).await;
        assert_eq!(detail.events.len(), 5);
        finals.push(without_sids(detail.summary));
    }
    let first = &finals[0];
    assert_eq!((first.status, first.duration_seconds, first.started_at), (Some(CallStatus::Completed), Some(42), T0));
    assert_eq!((first.qualified, first.qualification_reason.as_str()), (true, "qualified: talked 42 s"));
    for (order, call) in orders.iter().zip(&finals) {
        assert_eq!(call, first, "order {order:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_deliveries_give_the_same_call_and_lose_no_event() {
    let store = store().await;
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(4);
    let updates = call.forwarded(Some(&number), 20, 45);
    let expected = {
        let once = self::store().await;
        record_all(&once, &updates).await;
        stored(&once, &call).await
    };

    let tasks: Vec<_> = (0..32)
        .map(|task| {
            // 32 Lambdas, each delivering the whole lifecycle in its own order.
            let lambda = sibling(&store);
            let mut mine = updates.clone();
            mine.rotate_left(task % updates.len());
            if task % 2 == 1 {
                mine.reverse();
            }
            tokio::spawn(async move { record_all(&lambda, &mine).await })
        })
        .collect();
    let (mut applied, mut duplicates) = (0, 0);
    for task in tasks {
        let (a, d) = task.await.unwrap();
        applied += a;
        duplicates += d;
    }
    assert_eq!((applied, duplicates), (8, 31 * 8), "each distinct callback applied exactly once");
    let detail = stored(&store, &call).await;
    assert_eq!(detail.events.len(), 8);
    assert_eq!(without_events(detail), without_events(expected));
}

/// Records a call and returns its stored verdict.
async fn verdict(store: &DynamoStore, n: u64, updates: impl Fn(&Lifecycle) -> Vec<CallUpdate>) -> (bool, String) {
    let call = Lifecycle::new(n);
    record_all(store, &updates(&call)).await;
    let c = stored(store, &call).await.summary;
    (c.qualified, c.qualification_reason)
}

#[tokio::test]
async fn qualification_from_the_stored_facts() {
    let store = store().await;
    let default_min = number("tenant-a", "user-1", None);
    let sixty = number("tenant-a", "user-1", Some(60));
    // A call we did not forward: its own duration is the conversation.
    let direct =
        |seconds: u32| move |c: &Lifecycle| vec![c.answer(None), c.parent_status(0, "completed", i64::from(seconds), Some(seconds))];
    assert_eq!(verdict(&store, 10, direct(29)).await, (false, "too short: 29 s < 30 s".into()));
    assert_eq!(verdict(&store, 11, direct(30)).await, (true, "qualified: talked 30 s".into()));
    assert_eq!(verdict(&store, 12, direct(31)).await, (true, "qualified: talked 31 s".into()));
    // Forwarded: 40 s of ringing and 10 s of talk is short, however long the inbound leg.
    assert_eq!(verdict(&store, 13, |c| c.forwarded(Some(&default_min), 40, 10)).await, (false, "too short: 10 s < 30 s".into()));
    assert_eq!(verdict(&store, 14, |c| c.forwarded(Some(&default_min), 5, 45)).await, (true, "qualified: talked 45 s".into()));
    // The number's own minimum.
    assert_eq!(verdict(&store, 15, |c| c.forwarded(Some(&sixty), 5, 45)).await, (false, "too short: 45 s < 60 s".into()));
    assert_eq!(verdict(&store, 16, |c| c.forwarded(Some(&sixty), 5, 60)).await, (true, "qualified: talked 60 s".into()));
    // Nobody answered: a voicemail is a lead to call back, not a qualified call.
    let voicemail = |c: &Lifecycle| {
        vec![
            c.answer(Some(&default_min)),
            c.child_status(0, "no-answer", 30, None),
            c.dial("no-answer", None, 30),
            c.recording("RecordVerb", 25, 58),
            c.parent_status(0, "completed", 60, Some(60)),
        ]
    };
    assert_eq!(verdict(&store, 17, voicemail).await, (false, "not answered: no-answer".into()));
    let c = stored(&store, &Lifecycle::new(17)).await.summary;
    assert!(c.voicemail && !c.qualified);
    // The caller gave up while it rang.
    let canceled = |c: &Lifecycle| vec![c.answer(Some(&default_min)), c.parent_status(0, "canceled", 12, None)];
    assert_eq!(verdict(&store, 18, canceled).await, (false, "not answered: canceled".into()));
}

#[tokio::test]
async fn a_call_to_an_unknown_number_is_kept_unattributed() {
    let store = store().await;
    let call = Lifecycle::new(5);
    record_all(&store, &[call.answer(None), call.parent_status(0, "completed", 40, Some(40))]).await;
    let c = stored(&store, &call).await.summary;
    assert!(!c.attributed);
    assert_eq!((c.tenant_id, c.user_id, c.tracking_number.map(|n| n.to_string())), (None, None, Some(TRACKING.to_owned())));
    assert_eq!(store.call(&Scope::Tenant(tenant_id("tenant-a")), &call_sid(&call)).await.unwrap(), None, "no tenant sees it");
}

#[tokio::test]
async fn tenants_never_see_each_others_calls() {
    let store = store().await;
    // The same user id in two tenants: still two different users.
    let a = number("tenant-a", "user-1", None);
    let b = number("tenant-b", "user-1", None);
    let (call_a, call_b) = (Lifecycle::new(6), Lifecycle::new(7));
    record_all(&store, &call_a.forwarded(Some(&a), 5, 45)).await;
    record_all(&store, &call_b.forwarded(Some(&b), 5, 45)).await;

    let tenant = |t: &str| Scope::Tenant(tenant_id(t));
    assert!(store.call(&tenant("tenant-a"), &call_sid(&call_a)).await.unwrap().is_some());
    assert_eq!(store.call(&tenant("tenant-a"), &call_sid(&call_b)).await.unwrap(), None);
    assert_eq!(store.call(&tenant("tenant-b"), &call_sid(&call_a)).await.unwrap(), None);

    for qualified_only in [false, true] {
        for user_id in [None, Some("user-1".to_owned())] {
            let query = CallQuery { user_id: user_id.clone(), qualified_only, ..CallQuery::tenant(tenant_id("tenant-a")) };
            let page = store.calls(&query).await.unwrap();
            let sids: Vec<_> = page.items.iter().map(|c| c.call_sid.to_string()).collect();
            assert_eq!(sids, std::slice::from_ref(&call_a.call_sid), "user {user_id:?}, qualified only: {qualified_only}");
        }
    }
    let nobody = CallQuery::tenant(tenant_id("tenant-c"));
    assert!(store.calls(&nobody).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn calls_are_listed_newest_first_in_pages_and_time_ranges() {
    let store = store().await;
    let number = number("tenant-a", "user-1", None);
    let mut sids = Vec::new();
    for n in 0..5u64 {
        let call = Lifecycle::new(100 + n);
        let mut answer = call.answer(Some(&number));
        // Each call starts a minute after the one before.
        let start = T0 + n as i64 * 60_000;
        answer.call.started_at = start;
        answer.call.created_at = start;
        answer.call.updated_at = start;
        store.record(&answer).await.unwrap();
        // Calls 1 and 3 talk long enough to qualify.
        let talk = if n % 2 == 1 { 40 } else { 5 };
        record_all(&store, &[call.dial("completed", Some(talk), 300), call.parent_status(0, "completed", 300, Some(talk + 3))]).await;
        sids.push(call.call_sid);
    }
    let newest_first: Vec<_> = sids.iter().rev().cloned().collect();

    let mut query = CallQuery { limit: Some(2), ..CallQuery::tenant(tenant_id("tenant-a")) };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.calls(&query).await.unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|c| c.call_sid.to_string()));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);
    assert!(pages >= 3, "5 calls, 2 a page");

    let range = CallQuery { since: Some(T0 + 60_000), until: Some(T0 + 180_000), ..CallQuery::tenant(tenant_id("tenant-a")) };
    let in_range: Vec<_> = store.calls(&range).await.unwrap().items.iter().map(|c| c.call_sid.to_string()).collect();
    assert_eq!(in_range, [sids[3].clone(), sids[2].clone(), sids[1].clone()]);

    let qualified = CallQuery { qualified_only: true, ..CallQuery::tenant(tenant_id("tenant-a")) };
    let qualified: Vec<_> = store.calls(&qualified).await.unwrap().items.iter().map(|c| c.call_sid.to_string()).collect();
    assert_eq!(qualified, [sids[3].clone(), sids[1].clone()]);

    // A cursor continues only its own listing's partition: one taken from
    // tenant B's listing, given to tenant A's, lists A's calls after that point.
    let b_call = Lifecycle::new(900);
    let b_number = TrackingNumber { tenant_id: "tenant-b".into(), ..number.clone() };
    record_all(&store, &[b_call.answer(Some(&b_number))]).await;
    let b_page = store.calls(&CallQuery::tenant(tenant_id("tenant-b"))).await.unwrap();
    let b_cursor = Cursor { started_at: b_page.items[0].started_at, call_sid: b_page.items[0].call_sid };
    let crossed = CallQuery { cursor: Some(b_cursor), ..CallQuery::tenant(tenant_id("tenant-a")) };
    let crossed: Vec<_> = store.calls(&crossed).await.unwrap().items.iter().map(|c| c.tenant_id.clone()).collect();
    assert!(crossed.iter().all(|t| t.as_deref() == Some("tenant-a")), "{crossed:?}");
}

/// Prints what each callback of a forwarded, recorded call costs (run with
/// `--nocapture` to see it): one request each, two items, transactional.
#[tokio::test]
async fn write_capacity_of_a_full_lifecycle() {
    let store = store().await;
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(8);
    let updates = call.forwarded(Some(&number), 20, 45);
    let mut before = 0.0;
    let (mut call, mut index_items) = (None, 0);
    for update in &updates {
        let Recorded::Applied(applied) = store.record(update).await.unwrap() else { panic!("applied") };
        let units = store.write_capacity_units();
        // DynamoDB Local reports one item's units per table in a transaction: the
        // index items the call's transaction wrote are counted here instead.
        let indexed = call.as_ref().map(|call| (call, calltrack_dynamo::item::INDEX_VERSION));
        let items = calltrack_dynamo::index::index_writes("index", indexed, Some(&applied.call)).unwrap().len();
        index_items += items;
        call = Some(applied.call);
        let leg = if matches!(update.event.id, EventId::Status { child: Some(_), .. }) { "child" } else { "parent" };
        let label = format!("{:?} {} ({leg})", update.event.kind(), update.event.status);
        println!("{label:<30} {:>4} WCU as reported, {items:>2} index items", units - before);
        before = units;
    }
    println!("{:<30} {before:>4} WCU in {} requests, {index_items} index items", "whole lifecycle", updates.len());
    // At least the two transactional puts (2 x 1 WCU each) per callback; and
    // the indexes, which hold keys only, are written only when a key changes.
    assert!(before >= 4.0 * updates.len() as f64 && before <= 6.0 * updates.len() as f64, "{before} WCU");
}

#[tokio::test]
async fn unreachable_storage_is_a_storage_error_that_names_the_failure() {
    use aws_sdk_dynamodb::config::{retry::RetryConfig, timeout::TimeoutConfig};
    // Nothing listens on port 9 of loopback.
    let config = config("http://127.0.0.1:9")
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().connect_timeout(std::time::Duration::from_millis(500)).build())
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), unique_tables(), std::time::Duration::from_secs(86_400));
    let err = store.record(&Lifecycle::new(9).answer(None)).await.unwrap_err();
    assert!(err.to_string().starts_with("storage failed: "), "{err}");
}

fn account(sid: &str) -> AccountSid {
    AccountSid::parse("AccountSid", sid).unwrap()
}

/// The keys of a call's stored events.
async fn event_keys(store: &DynamoStore, call: &Lifecycle) -> Vec<String> {
    stored(store, call).await.events.into_iter().map(|e| e.event_key).collect()
}

#[tokio::test]
async fn a_callback_from_another_account_writes_nothing() {
    let store = store().await;
    let (a, b) = (account(ACCOUNT), account(OTHER_ACCOUNT));
    let ours = Lifecycle::new(20);
    let theirs = ours.clone().in_account(OTHER_ACCOUNT);
    let number = number("tenant-a", "user-1", None);
    record_all(&store, &[ours.answer(Some(&number)), ours.parent_status(0, "in-progress", 5, None)]).await;
    let (item_before, events_before) = (item(&store, &ours).await, event_keys(&store, &ours).await);
    assert_eq!(item_before["accountSid"], AttributeValue::S(ACCOUNT.into()));
    assert_eq!(stored(&store, &ours).await.summary.account_sid, Some(a));

    let refused = Recorded::ForeignAccount(ForeignAccount { call_sid: call_sid(&ours), call_account: a, callback_account: b });
    let foreign = [
        theirs.parent_status(1, "completed", 60, Some(60)),
        theirs.parent_status(0, "in-progress", 5, None), // the key of an event of ours: still refused, not a duplicate
        theirs.child_status(3, "completed", 50, Some(45)),
        theirs.dial("completed", Some(45), 50),
        theirs.recording("DialVerb", 45, 61),
        theirs.answer(Some(&number)),
    ];
    // The store that wrote the call, and one that never saw it (a cold Lambda,
    // whose first try expects no call and meets it in the failed condition).
    for (who, store) in [("warm", &store), ("cold", &sibling(&store))] {
        for update in &foreign {
            assert_eq!(store.record(update).await.unwrap(), refused, "{who}: {:?}", update.event.id);
        }
    }
    assert_eq!(item(&store, &ours).await, item_before, "the call unchanged");
    assert_eq!(event_keys(&store, &ours).await, events_before, "no event written");

    // The call's own account goes on.
    let (applied, _) = record_all(&store, &[ours.parent_status(1, "completed", 60, Some(60))]).await;
    assert_eq!(applied, 1);
    assert_eq!(stored(&store, &ours).await.summary.account_sid, Some(a));
}

#[tokio::test]
async fn the_write_itself_requires_the_calls_account() {
    let store = store().await;
    let ours = Lifecycle::new(21);
    record_all(&store, &[ours.answer(None)]).await;
    // The item's account changes behind the store's back, its version the same:
    // the merge, from the version remembered, cannot see it; the condition does.
    let key = AttributeValue::S(ours.call_sid.clone());
    let edit = |value: AttributeValue| {
        store
            .client()
            .update_item()
            .table_name(&store.tables().calls)
            .key("callSid", key.clone())
            .update_expression("SET accountSid = :account")
            .expression_attribute_values(":account", value)
            .send()
    };
    edit(AttributeValue::S(OTHER_ACCOUNT.into())).await.unwrap();
    let before = item(&store, &ours).await;
    let refused = ForeignAccount { call_sid: call_sid(&ours), call_account: account(OTHER_ACCOUNT), callback_account: account(ACCOUNT) };
    assert_eq!(store.record(&ours.parent_status(0, "completed", 40, Some(40))).await.unwrap(), Recorded::ForeignAccount(refused));
    assert_eq!(item(&store, &ours).await, before, "nothing written");
    assert_eq!(event_keys(&store, &ours).await, ["answer"]);

    // An account that is no string is no account: the next callback repairs it.
    edit(AttributeValue::N("7".into())).await.unwrap();
    let (applied, _) = record_all(&store, &[ours.parent_status(0, "completed", 40, Some(40))]).await;
    assert_eq!(applied, 1);
    assert_eq!(item(&store, &ours).await["accountSid"], AttributeValue::S(ACCOUNT.into()));

    // A call stored before accounts were kept takes its next callback's.
    let older = Lifecycle::new(22);
    record_all(&store, &[older.answer(None)]).await;
    let key = AttributeValue::S(older.call_sid.clone());
    let table = &store.tables().calls;
    store.client().update_item().table_name(table).key("callSid", key).update_expression("REMOVE accountSid").send().await.unwrap();
    record_all(&sibling(&store), &[older.parent_status(0, "completed", 40, Some(40))]).await;
    assert_eq!(item(&store, &older).await["accountSid"], AttributeValue::S(ACCOUNT.into()));
}

#[tokio::test]
async fn a_tenant_lists_changes_and_removes_only_its_own_numbers() {
    let store = store().await;
    let (acme, other) = (tenant_id("acme"), tenant_id("other"));
    let mut mine = number("acme", "jane", None);
    assert!(!store.put_number_of(&mine).await.unwrap(), "a tenant adds no number: the operator does");
    assert_eq!(store.tracking_number(&mine.phone_number).await.unwrap(), None);
    store.put_tracking_number(&mine).await.unwrap();
    mine.lead_source = Some("Billboard".into());
    assert!(store.put_number_of(&mine).await.unwrap(), "its own number, replaced");
    let theirs = TrackingNumber { tenant_id: "other".into(), ..mine.clone() };
    assert!(!store.put_number_of(&theirs).await.unwrap(), "another tenant's number is not taken over");
    assert_eq!(store.tracking_number(&mine.phone_number).await.unwrap(), Some(mine.clone()), "and nothing was written");
    let second = TrackingNumber { phone_number: PhoneNumber::e164("number", "+18005550100").unwrap(), ..theirs.clone() };
    store.put_tracking_number(&second).await.unwrap();

    assert_eq!(store.numbers_of(&acme).await.unwrap(), std::slice::from_ref(&mine));
    assert_eq!(store.numbers_of(&other).await.unwrap(), [second]);
    assert!(store.numbers_of(&tenant_id("nobody")).await.unwrap().is_empty());

    assert!(!store.remove_number_of(&other, &mine.phone_number).await.unwrap(), "another tenant's stays");
    assert!(store.tracking_number(&mine.phone_number).await.unwrap().is_some());
    assert!(store.remove_number_of(&acme, &mine.phone_number).await.unwrap());
    assert!(!store.remove_number_of(&acme, &mine.phone_number).await.unwrap(), "gone already");
    assert!(store.numbers_of(&acme).await.unwrap().is_empty());
}
