//! Stored items from elsewhere never poison a call: a call item this version
//! cannot read (another version's, imported, edited by hand) is rebuilt from
//! what of it reads and from its events, written back by the call's next
//! callback, and read as rebuilt meanwhile; on DynamoDB Local.

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::call::{Call, CallUpdate};
use calltrack_core::call_index::Listing;
use calltrack_core::fixtures::*;
use calltrack_core::ports::{ReadCalls, RecordCalls, Recorded};
use calltrack_core::view::{CallQuery, CallSummary, Scope, TenantId};
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::index::{listing_pk, listing_sk};
use calltrack_dynamo::item::Warning;
use calltrack_dynamo::testing::{sibling, store};
use calltrack_twilio::fields::{CallSid, Field};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Item = HashMap<String, AttributeValue>;

/// A store whose warnings are kept, to be looked at.
fn warned(store: DynamoStore) -> (DynamoStore, Arc<Mutex<Vec<Warning>>>) {
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let kept = warnings.clone();
    (store.on_warning(move |w| kept.lock().unwrap().push(w.clone())), warnings)
}

/// The call its callbacks make, merged in memory.
fn merged(updates: &[CallUpdate]) -> Call {
    updates.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).expect("one account").call)).unwrap()
}

/// `expected` with what storage counted beside the callbacks' facts: the
/// caller's earlier calls (every test's calls come from one caller).
fn counted_as(stored: &CallSummary, mut expected: CallSummary) -> CallSummary {
    (expected.prior_calls, expected.first_time_caller) = (stored.prior_calls, stored.first_time_caller);
    expected
}

fn sid(call: &Lifecycle) -> CallSid {
    CallSid::parse("CallSid", &call.call_sid).unwrap()
}

fn key(call_sid: &str) -> AttributeValue {
    AttributeValue::S(call_sid.to_owned())
}

async fn item(store: &DynamoStore, call_sid: &str) -> Item {
    let output = store.client().get_item().table_name(&store.tables().calls).key("callSid", key(call_sid)).send().await.unwrap();
    output.item.expect("the call is stored")
}

async fn put(store: &DynamoStore, item: Item) {
    store.client().put_item().table_name(&store.tables().calls).set_item(Some(item)).send().await.unwrap();
}

/// Edits a call's item by hand.
async fn edit(store: &DynamoStore, call_sid: &str, edit: impl FnOnce(&mut Item)) {
    let mut item = item(store, call_sid).await;
    edit(&mut item);
    put(store, item).await;
}

async fn record_all(store: &DynamoStore, updates: &[CallUpdate]) {
    for update in updates {
        assert!(matches!(store.record(update).await.unwrap(), Recorded::Applied(_)));
    }
}

/// How an item is spoiled, and what its warning names.
type Spoil = fn(&mut Item);

fn spoils() -> Vec<(&'static str, Spoil, &'static [&'static str])> {
    vec![
        ("createdAt missing", |i| drop(i.remove("createdAt")), &["createdAt (missing)"]),
        (
            "fields of the wrong type",
            |i| {
                i.insert("durationSeconds".into(), AttributeValue::S("sixty-seven".into()));
                i.insert("recording".into(), AttributeValue::S("gone".into()));
                i.insert("forwarded".into(), AttributeValue::S("yes".into()));
                i.insert("status".into(), AttributeValue::N("3".into()));
            },
            &[
                "durationSeconds (wrong type or value)",
                "forwarded (wrong type or value)",
                "recording (wrong type or value)",
                "status (wrong type or value)",
            ],
        ),
        (
            "a version that is a string",
            |i| drop(i.insert("version".into(), AttributeValue::S("v2".into()))),
            &["version (not a whole number)"],
        ),
        ("no version", |i| drop(i.remove("version")), &["version (missing)"]),
        (
            "a version that is no whole number",
            |i| drop(i.insert("version".into(), AttributeValue::N("4.5".into()))),
            &["version (not a whole number)"],
        ),
        (
            "a version that is a map",
            |i| drop(i.insert("version".into(), AttributeValue::M(HashMap::new()))),
            &["version (not a whole number)"],
        ),
        (
            "only what the events cannot give",
            |i| {
                let keep = [
                    "callSid",
                    "tenantId",
                    "userId",
                    "tenantUser",
                    "trackingNumber",
                    "leadSource",
                    "qualifyOutbound",
                    "forwarded",
                    "version",
                ];
                i.retain(|name, _| keep.contains(&name.as_str()));
                i.insert("schemaVersion".into(), AttributeValue::S("legacy-1".into()));
            },
            &["startedAt (missing)", "createdAt (missing)", "updatedAt (missing)"],
        ),
    ]
}

#[tokio::test]
async fn a_callback_to_an_unreadable_call_rebuilds_it_from_its_events_and_writes_it_back() {
    let store = store().await;
    let number = number("tenant-a", "user-1", None);
    for (n, (case, spoil, unreadable)) in spoils().into_iter().enumerate() {
        let call = Lifecycle::new(100 + n as u64);
        let updates = call.forwarded(Some(&number), 20, 45);
        record_all(&store, &updates[..5]).await;
        edit(&store, &call.call_sid, spoil).await;

        // A redelivery changes nothing, and fails nothing.
        let (lambda, warnings) = warned(sibling(&store));
        assert!(matches!(lambda.record(&updates[0]).await.unwrap(), Recorded::Duplicate { .. }), "{case}");
        // The next callback, in a Lambda that remembers nothing: the call is rebuilt and written back.
        let Recorded::Applied(applied) = lambda.record(&updates[5]).await.unwrap() else { panic!("{case}: applied") };
        let prior = applied.call.prior_calls.expect("counted when the call got its owner");
        assert_eq!(applied.call, merged(&updates[..6]).with_prior_calls(prior), "{case}");
        assert!(!applied.changes.created, "{case}");
        // And the Lambda that remembers the version it wrote before the edit merges on.
        record_all(&store, &updates[6..]).await;

        let view = store.call(&Scope::Operator, &sid(&call)).await.unwrap().unwrap();
        assert_eq!(view.summary, counted_as(&view.summary, CallSummary::from(&merged(&updates))), "{case}: the call its events make");
        assert_eq!(view.events.len(), 8, "{case}");
        let stored = item(&store, &call.call_sid).await;
        assert_eq!(stored["version"], AttributeValue::N("8".into()), "{case}: a version this version reads, counting every callback");
        assert!(!stored.contains_key("schemaVersion"), "{case}: the item as this version writes it");

        let warnings = warnings.lock().unwrap();
        assert_eq!(warnings.len(), 1, "{case}: {warnings:?}");
        assert_eq!(warnings[0].call_sid, call.call_sid, "{case}");
        assert_eq!(warnings[0].unreadable, *unreadable, "{case}");
        assert_eq!(warnings[0].action, "rebuilt from its 5 events and written back", "{case}");
        assert!(warnings[0].to_string().starts_with(&format!("call {}: could not read ", call.call_sid)), "{case}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callbacks_to_an_unreadable_call_are_each_applied_once() {
    let store = store().await;
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(200);
    let updates = call.forwarded(Some(&number), 20, 45);
    record_all(&store, &updates[..3]).await;
    edit(&store, &call.call_sid, |i| {
        i.remove("createdAt");
        i.insert("version".into(), AttributeValue::S("imported".into()));
    })
    .await;

    // The five callbacks left, each delivered by two Lambdas at once.
    let tasks: Vec<_> = (0..10)
        .map(|task| {
            let lambda = sibling(&store);
            let update = updates[3 + task % 5].clone();
            tokio::spawn(async move { lambda.record(&update).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        applied += usize::from(matches!(task.await.unwrap(), Recorded::Applied(_)));
    }
    assert_eq!(applied, 5, "each distinct callback applied exactly once");
    let view = store.call(&Scope::Operator, &sid(&call)).await.unwrap().unwrap();
    assert_eq!(view.summary, counted_as(&view.summary, CallSummary::from(&merged(&updates))));
    assert_eq!(view.events.len(), 8);
    assert_eq!(item(&store, &call.call_sid).await["version"], AttributeValue::N("8".into()));
}

#[tokio::test]
async fn readers_get_an_unreadable_call_rebuilt_and_a_listing_never_fails_for_one_item() {
    let (store, warnings) = warned(store().await);
    let number = number("tenant-a", "user-1", None);
    let calls: Vec<Lifecycle> = (300..303).map(Lifecycle::new).collect();
    for call in &calls {
        record_all(&store, &call.forwarded(Some(&number), 20, 45)).await;
    }
    let spoiled = &calls[1];
    edit(&store, &spoiled.call_sid, |i| {
        i.remove("createdAt");
        i.insert("talkSeconds".into(), AttributeValue::S("long".into()));
        i.insert("dialStatus".into(), AttributeValue::S("maybe".into()));
    })
    .await;
    // An imported entry with a key that is no CallSid, in tenant-a's listing.
    let imported = Item::from([
        ("pk".to_owned(), AttributeValue::S(listing_pk("tenant-a", &Listing::All, Some(0)))),
        ("sk".to_owned(), AttributeValue::S(listing_sk(T0 + 5_000, "imported-1"))),
        ("callSid".to_owned(), key("imported-1")),
        ("startedAt".to_owned(), AttributeValue::N((T0 + 5_000).to_string())),
    ]);
    store.client().put_item().table_name(&store.tables().index).set_item(Some(imported)).send().await.unwrap();
    // And one of the spoiled call's events edited by hand.
    let event_key = AttributeValue::S(format!("status#{}#00000#initiated", spoiled.child_sid));
    store
        .client()
        .update_item()
        .table_name(&store.tables().events)
        .key("callSid", key(&spoiled.call_sid))
        .key("eventKey", event_key)
        .update_expression("SET receivedAt = :bad")
        .expression_attribute_values(":bad", AttributeValue::S("yesterday".into()))
        .send()
        .await
        .unwrap();
    let before = item(&store, &spoiled.call_sid).await;
    let expected = CallSummary::from(&merged(&spoiled.forwarded(Some(&number), 20, 45)));

    let view = store.call(&Scope::Tenant(TenantId::parse("tenant", "tenant-a").unwrap()), &sid(spoiled)).await.unwrap().unwrap();
    let expected = counted_as(&view.summary, expected);
    assert_eq!(view.summary, expected, "the call its events make, and the owner only the item knew");
    assert_eq!(view.events.len(), 7, "the unreadable event left out");
    assert_eq!(store.call(&Scope::Tenant(TenantId::parse("tenant", "tenant-b").unwrap()), &sid(spoiled)).await.unwrap(), None);

    let page = store.calls(&CallQuery::tenant(TenantId::parse("tenant", "tenant-a").unwrap())).await.unwrap();
    let listed: Vec<&str> = page.items.iter().map(|c| c.call_sid.as_str()).collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(page.items.iter().find(|c| c.call_sid == sid(spoiled)), Some(&expected));
    let qualified = CallQuery { qualified_only: true, ..CallQuery::tenant(TenantId::parse("tenant", "tenant-a").unwrap()) };
    assert_eq!(store.calls(&qualified).await.unwrap().items.len(), 3);

    assert_eq!(item(&store, &spoiled.call_sid).await, before, "a read never writes");
    let warnings = warnings.lock().unwrap();
    let about = |sid: &str| warnings.iter().filter(|w| w.call_sid == sid).map(ToString::to_string).collect::<Vec<_>>();
    let spoiled_warnings = about(&spoiled.call_sid);
    assert!(
        spoiled_warnings.iter().any(|w| w.contains("createdAt (missing)") && w.contains("#initiated (unreadable)")),
        "{spoiled_warnings:?}"
    );
    assert!(spoiled_warnings.iter().all(|w| !w.contains("long") && !w.contains("maybe")), "names, never values: {spoiled_warnings:?}");
    assert_eq!(about("imported-1"), ["call imported-1: could not read callSid (not a CallSid); left out"]);
}

#[tokio::test]
async fn a_placed_call_is_rebuilt_with_its_customer_and_requester_not_the_agent() {
    use calltrack_core::placement::Placement;
    use calltrack_twilio::Params;
    use calltrack_twilio::fields::{AccountSid, PhoneNumber};
    use calltrack_twilio::voice::CallWebhook;
    let store = store().await;
    let number = number("tenant-a", "user-1", None);
    // The agent's number sorts after the customer's: a rebuild taking the first leg's `To` would keep the agent.
    let placement = Placement {
        agent: PhoneNumber::e164("a", "+19995550100").unwrap(),
        number,
        user_id: "amy".into(),
        customer: PhoneNumber::e164("to", "+14155550100").unwrap(),
        record: true,
        crm: [("contactId".to_owned(), "c-9".to_owned())].into(),
    };
    let call_sid = CallSid::parse("CallSid", &sid_of(77)).unwrap();
    let account = AccountSid::parse("a", "AC0123456789abcdef0123456789abcdef").unwrap();
    store.record(&CallUpdate::placed(call_sid, account, &placement, T0)).await.unwrap();
    let leg = |status: &str, seq: &str| {
        let form = format!(
            "AccountSid={account}&CallSid={call_sid}&CallStatus={status}&Direction=outbound-api&From=%2B18005551212&To=%2B19995550100&SequenceNumber={seq}"
        );
        CallUpdate::status(&CallWebhook::parse(Params::from_form(form.as_bytes()).unwrap()).unwrap(), T0 + 1000)
            .for_customer(&placement.customer)
    };
    store.record(&leg("ringing", "1")).await.unwrap();
    // Unreadable, and without what the events must give back.
    edit(&store, call_sid.as_str(), |item| {
        item.insert("version".into(), AttributeValue::M(HashMap::new()));
        item.retain(|name, _| !["toNumber", "userId", "tenantUser", "crm"].contains(&name.as_str()));
    })
    .await;
    store.record(&leg("in-progress", "2")).await.unwrap();

    let call = store.call(&Scope::Operator, &call_sid).await.unwrap().expect("stored").summary;
    assert_eq!(call.to_number.as_ref().map(PhoneNumber::as_str), Some("+14155550100"), "the customer, from the placed event");
    assert_eq!((call.tenant_id.as_deref(), call.user_id.as_deref()), (Some("tenant-a"), Some("amy")));
    assert_eq!(call.crm.get("contactId").map(String::as_str), Some("c-9"));
}

fn sid_of(n: u64) -> String {
    calltrack_core::fixtures::sid("CA", n)
}
