//! Erasing one caller's data (`EraseCallers`): every call from a number, in
//! every tenant, with all its events; nobody else's. On DynamoDB Local.

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::call::CallUpdate;
use calltrack_core::fixtures::*;
use calltrack_core::ports::{EraseCallers, ReadCalls, RecordCalls};
use calltrack_core::view::{CallQuery, Scope, TenantId};
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::testing::store;
use calltrack_twilio::Params;
use calltrack_twilio::fields::{CallSid, Field, PhoneNumber};
use calltrack_twilio::voice::CallWebhook;
use std::collections::HashMap;

const OTHER: &str = "+13105550142";

/// A call from `OTHER` to the tracking number: answered, then completed after `seconds`.
fn other_callers_call(n: u64, owner: &calltrack_core::tracking_number::TrackingNumber, seconds: u32) -> Vec<CallUpdate> {
    let call_sid = sid("CA", n);
    let hook = |status: &str, extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("AccountSid", ACCOUNT),
            ("CallSid", call_sid.as_str()),
            ("CallStatus", status),
            ("Direction", "inbound"),
            ("From", OTHER),
            ("To", TRACKING),
        ];
        pairs.extend_from_slice(extra);
        CallWebhook::parse(pairs.into_iter().collect::<Params>()).unwrap()
    };
    let duration = seconds.to_string();
    vec![
        CallUpdate::answer(&hook("ringing", &[]), Some(owner), false, T0 + n as i64),
        CallUpdate::status(&hook("completed", &[("SequenceNumber", "0"), ("CallDuration", &duration)]), T0 + n as i64 + 60_000),
    ]
}

async fn record_all(store: &DynamoStore, updates: &[CallUpdate]) {
    for update in updates {
        store.record(update).await.unwrap();
    }
}

/// How many events the events table holds for a call.
async fn events_of(store: &DynamoStore, call_sid: &str) -> usize {
    let output = store
        .client()
        .query()
        .table_name(&store.tables().events)
        .key_condition_expression("callSid = :callSid")
        .expression_attribute_values(":callSid", AttributeValue::S(call_sid.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    output.count as usize
}

async fn has_call(store: &DynamoStore, call_sid: &str) -> bool {
    let key = AttributeValue::S(call_sid.to_owned());
    store.client().get_item().table_name(&store.tables().calls).key("callSid", key).send().await.unwrap().item.is_some()
}

#[tokio::test]
async fn erasing_a_caller_takes_their_calls_and_events_in_every_tenant_and_nobody_elses() {
    let store = store().await;
    let (a, b) = (number("tenant-a", "user-1", None), number("tenant-b", "user-2", None));
    let caller = PhoneNumber::e164("From", CALLER).unwrap();
    // The caller: a call to each tenant and one to an unknown number, 8 + 8 + 2 events.
    let theirs = [Lifecycle::new(1), Lifecycle::new(2), Lifecycle::new(3)];
    record_all(&store, &theirs[0].forwarded(Some(&a), 20, 45)).await;
    record_all(&store, &theirs[1].forwarded(Some(&b), 5, 10)).await;
    record_all(&store, &[theirs[2].answer(None), theirs[2].parent_status(0, "completed", 40, Some(40))]).await;
    // An imported item of theirs, whose key is no CallSid and which has no events.
    let imported = HashMap::from([
        ("callSid".to_owned(), AttributeValue::S("imported-7".into())),
        ("fromNumber".to_owned(), AttributeValue::S(CALLER.into())),
    ]);
    store.client().put_item().table_name(&store.tables().calls).set_item(Some(imported)).send().await.unwrap();
    // A call placed to them from tenant a's number (its caller is the tracking number): 1 event.
    let placement = calltrack_core::placement::Placement {
        agent: a.forward_to.clone(),
        number: a.clone(),
        user_id: "user-1".into(),
        customer: caller.clone(),
        record: true,
        crm: Default::default(),
    };
    let placed = CallSid::parse("CallSid", &sid("CA", 4)).unwrap();
    let account = calltrack_twilio::fields::AccountSid::parse("a", &sid("AC", 1)).unwrap();
    store.record(&calltrack_core::call::CallUpdate::placed(placed, account, &placement, T0)).await.unwrap();
    // Someone else, to the same tenants.
    let others = [other_callers_call(10, &a, 50), other_callers_call(11, &b, 20)];
    for updates in &others {
        record_all(&store, updates).await;
    }

    let found = store.calls_from(&caller).await.unwrap();
    let mut sids: Vec<&str> = found.iter().map(|c| c.call_sid.as_str()).collect();
    sids.sort();
    let mut expected: Vec<&str> = theirs.iter().map(|c| c.call_sid.as_str()).chain(["imported-7", placed.as_str()]).collect();
    expected.sort();
    assert_eq!(sids, expected);
    let tenants: Vec<_> =
        found.iter().find(|c| c.call_sid == theirs[1].call_sid).map(|c| (c.tenant_id.clone(), c.started_at)).into_iter().collect();
    assert_eq!(tenants, [(Some("tenant-b".to_owned()), Some(T0))]);

    let mut erased = 0;
    for call in &found {
        erased += store.erase_call(&call.call_sid).await.unwrap();
    }
    assert_eq!(erased, 8 + 8 + 2 + 1);

    for sid in &expected {
        assert!(!has_call(&store, sid).await, "{sid}: the call is gone");
        assert_eq!(events_of(&store, sid).await, 0, "{sid}: its events are gone");
    }
    assert!(store.calls_from(&caller).await.unwrap().is_empty());
    assert!(store.call(&Scope::Operator, &CallSid::parse("CallSid", &theirs[0].call_sid).unwrap()).await.unwrap().is_none());
    // The other caller's calls and events are all there, in their tenants' lists.
    for (tenant, updates) in [("tenant-a", &others[0]), ("tenant-b", &others[1])] {
        let call_sid = updates[0].call.call_sid;
        assert_eq!(events_of(&store, call_sid.as_str()).await, 2);
        let view = store.call(&Scope::Operator, &call_sid).await.unwrap().unwrap();
        assert_eq!(view.summary.from_number.as_ref().map(PhoneNumber::as_str), Some(OTHER));
        let listed = store.calls(&CallQuery::tenant(TenantId::parse("tenant", tenant).unwrap())).await.unwrap().items;
        assert_eq!(listed.iter().map(|c| c.call_sid).collect::<Vec<_>>(), [call_sid], "{tenant}");
    }
    let other = PhoneNumber::e164("From", OTHER).unwrap();
    assert_eq!(store.calls_from(&other).await.unwrap().len(), 2);

    // Again: nothing left to erase, and no error.
    assert_eq!(store.erase_call(&theirs[0].call_sid).await.unwrap(), 0);
}

#[tokio::test]
async fn a_call_with_more_events_than_a_batch_is_erased_whole() {
    let store = store().await;
    let call = Lifecycle::new(20);
    // 1 answer and 40 parent status callbacks: two batches of deletes.
    let mut updates = vec![call.answer(None)];
    updates.extend((0..40).map(|seq| call.parent_status(seq, "in-progress", i64::from(seq), None)));
    record_all(&store, &updates).await;
    assert_eq!(events_of(&store, &call.call_sid).await, 41);
    assert_eq!(store.erase_call(&call.call_sid).await.unwrap(), 41);
    assert_eq!(events_of(&store, &call.call_sid).await, 0);
    assert!(!has_call(&store, &call.call_sid).await);
}

/// An erased call takes its index entries and its share of the counts with it,
/// and another tenant's counts never move.
#[tokio::test]
async fn an_erased_call_leaves_the_listings_and_the_counts() {
    use calltrack_core::call_index::{Dimension, Filter, StatsQuery};
    use calltrack_core::ports::CountCalls;
    let store = store().await;
    let (acme, other) = (number("acme", "jane", None), number("other", "bob", None));
    let kept = Lifecycle::new(1);
    record_all(&store, &kept.forwarded(Some(&acme), 20, 45)).await;
    let erased = Lifecycle::new(2);
    record_all(&store, &erased.forwarded(Some(&acme), 20, 45)).await;
    record_all(&store, &Lifecycle::new(3).forwarded(Some(&other), 20, 45)).await;
    let day = calltrack_core::call_index::day_of(T0);
    let counted = |tenant: &str| StatsQuery {
        tenant: TenantId::parse("tenant", tenant).unwrap(),
        dimension: Dimension::Day,
        since: day.clone(),
        until: day.clone(),
    };
    let calls_counted =
        |stats: Vec<(String, calltrack_core::call_index::Counts)>| stats.iter().map(|(_, c)| (c.calls, c.qualified)).collect::<Vec<_>>();
    assert_eq!(calls_counted(store.stats(&counted("acme")).await.unwrap()), [(2, 2)]);

    assert_eq!(store.erase_call(&erased.call_sid).await.unwrap(), 8);
    assert_eq!(calls_counted(store.stats(&counted("acme")).await.unwrap()), [(1, 1)]);
    assert_eq!(calls_counted(store.stats(&counted("other")).await.unwrap()), [(1, 1)]);
    let by_caller =
        CallQuery { filters: vec![(Filter::Caller, CALLER.to_owned())], ..CallQuery::tenant(TenantId::parse("tenant", "acme").unwrap()) };
    let listed: Vec<String> = store.calls(&by_caller).await.unwrap().items.iter().map(|c| c.call_sid.to_string()).collect();
    assert_eq!(listed, std::slice::from_ref(&kept.call_sid));
}

/// A call stored before the calls' index existed (no `indexed` flag, no
/// entries) is counted and listed once `reindex` has run, and only once.
#[tokio::test]
async fn reindex_puts_calls_stored_before_the_index_in_it_once() {
    use calltrack_core::call_index::{Dimension, Filter, StatsQuery};
    use calltrack_core::ports::CountCalls;
    let store = store().await;
    let acme = number("acme", "jane", None);
    let (old, new) = (Lifecycle::new(11), Lifecycle::new(12));
    record_all(&store, &old.forwarded(Some(&acme), 20, 45)).await;
    // As an earlier version left it: no flag, no entries, no count of earlier calls.
    let client = store.client();
    let tables = store.tables();
    for item in client.scan().table_name(&tables.index).send().await.unwrap().items.unwrap_or_default() {
        let key = HashMap::from([("pk".to_owned(), item["pk"].clone()), ("sk".to_owned(), item["sk"].clone())]);
        client.delete_item().table_name(&tables.index).set_key(Some(key)).send().await.unwrap();
    }
    client
        .update_item()
        .table_name(&tables.calls)
        .key("callSid", AttributeValue::S(old.call_sid.clone()))
        .update_expression("REMOVE #indexed, priorCalls")
        .expression_attribute_names("#indexed", "indexed")
        .send()
        .await
        .unwrap();
    record_all(&store, &new.forwarded(Some(&acme), 20, 45)).await;
    let day = calltrack_core::call_index::day_of(T0);
    let query =
        StatsQuery { tenant: TenantId::parse("tenant", "acme").unwrap(), dimension: Dimension::User, since: day.clone(), until: day };
    let calls = |stats: Vec<(String, calltrack_core::call_index::Counts)>| stats.iter().map(|(_, c)| c.calls).sum::<i64>();
    assert_eq!(calls(store.stats(&query).await.unwrap()), 1, "only the call written since");

    let report = store.reindex().await.unwrap();
    assert_eq!((report.indexed, report.changed, report.unreadable), (1, 0, 0));
    assert_eq!(calls(store.stats(&query).await.unwrap()), 2);
    let by_caller =
        CallQuery { filters: vec![(Filter::Caller, CALLER.to_owned())], ..CallQuery::tenant(TenantId::parse("tenant", "acme").unwrap()) };
    assert_eq!(store.calls(&by_caller).await.unwrap().items.len(), 2);
    assert_eq!(store.reindex().await.unwrap(), calltrack_dynamo::Reindexed::default(), "nothing left to do");
    assert_eq!(calls(store.stats(&query).await.unwrap()), 2, "counted once");
}

/// A call indexed by version 1 of the index (one partition per listing, no
/// listing of all or qualified calls) is moved to today's sharded keys by
/// `reindex`, and counted once.
#[tokio::test]
async fn reindex_moves_a_call_indexed_by_version_1_to_sharded_listings() {
    use calltrack_core::call_index::{Dimension, Filter, StatsQuery};
    use calltrack_core::ports::CountCalls;
    let store = store().await;
    let call = Lifecycle::new(31);
    record_all(&store, &call.forwarded(Some(&number("acme", "jane", None)), 20, 45)).await;
    let (client, tables) = (store.client(), store.tables());
    let listing_keys = || async {
        let items = client.scan().table_name(&tables.index).send().await.unwrap().items.unwrap_or_default();
        let mut pks: Vec<String> = items.iter().map(|i| i["pk"].as_s().unwrap().clone()).filter(|pk| pk.starts_with("L#")).collect();
        pks.sort();
        pks
    };
    let today = listing_keys().await;
    // As version 1 left it (or a rollback to it writes it): the busiest
    // listings in one partition each, no listing of all or of qualified
    // calls, and `indexed` = true without a version.
    for item in client.scan().table_name(&tables.index).send().await.unwrap().items.unwrap_or_default() {
        let pk = item["pk"].as_s().unwrap().clone();
        let v1 = ["answered", "direction", "firstTimeCaller", "leadSource"].iter().any(|name| pk.starts_with(&format!("L#acme#{name}#")));
        if !(v1 || pk.starts_with("L#acme#all#") || pk.starts_with("L#acme#qualified#")) {
            continue;
        }
        let key = HashMap::from([("pk".to_owned(), item["pk"].clone()), ("sk".to_owned(), item["sk"].clone())]);
        client.delete_item().table_name(&tables.index).set_key(Some(key)).send().await.unwrap();
        if v1 {
            let mut unsharded = item.clone();
            unsharded.insert("pk".into(), AttributeValue::S(pk.rsplit_once('#').unwrap().0.to_owned()));
            client.put_item().table_name(&tables.index).set_item(Some(unsharded)).send().await.unwrap();
        }
    }
    client
        .update_item()
        .table_name(&tables.calls)
        .key("callSid", AttributeValue::S(call.call_sid.clone()))
        .update_expression("SET #indexed = :true REMOVE indexVersion")
        .expression_attribute_names("#indexed", "indexed")
        .expression_attribute_values(":true", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    let acme = || CallQuery::tenant(TenantId::parse("tenant", "acme").unwrap());
    let answered = || CallQuery { filters: vec![(Filter::Answered, "true".to_owned())], ..acme() };
    assert!(store.calls(&acme()).await.unwrap().items.is_empty(), "not yet in today's listing of all calls");
    assert!(listing_keys().await.contains(&"L#acme#answered#true".to_owned()));

    let report = store.reindex().await.unwrap();
    assert_eq!((report.indexed, report.changed, report.unreadable), (1, 0, 0));
    assert_eq!(listing_keys().await, today, "every entry under today's keys, and none under version 1's");
    for query in [acme(), answered(), CallQuery { qualified_only: true, ..acme() }] {
        assert_eq!(store.calls(&query).await.unwrap().items.len(), 1, "{query:?}");
    }
    let day = calltrack_core::call_index::day_of(T0);
    let query =
        StatsQuery { tenant: TenantId::parse("tenant", "acme").unwrap(), dimension: Dimension::Day, since: day.clone(), until: day };
    let counts: Vec<(i64, i64)> = store.stats(&query).await.unwrap().iter().map(|(_, c)| (c.calls, c.qualified)).collect();
    assert_eq!(counts, [(1, 1)], "the counts were right already, and are left alone");
    assert_eq!(store.reindex().await.unwrap(), calltrack_dynamo::Reindexed::default(), "nothing left to do");
}

/// An erased call whose item no longer reads still takes its listings (the
/// caller's number among them) and its counts with it.
#[tokio::test]
async fn an_unreadable_call_is_erased_with_its_listings_and_counts() {
    use calltrack_core::call_index::{Dimension, StatsQuery};
    use calltrack_core::ports::CountCalls;
    let store = store().await;
    let call = Lifecycle::new(21);
    record_all(&store, &call.forwarded(Some(&number("acme", "jane", None)), 20, 45)).await;
    store
        .client()
        .update_item()
        .table_name(&store.tables().calls)
        .key("callSid", AttributeValue::S(call.call_sid.clone()))
        .update_expression("SET durationSeconds = :bad")
        .expression_attribute_values(":bad", AttributeValue::S("sixty-seven".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(store.erase_call(&call.call_sid).await.unwrap(), 8);
    let index = store.client().scan().table_name(&store.tables().index).send().await.unwrap();
    let left: Vec<_> = index.items().iter().filter(|item| item["pk"].as_s().unwrap().starts_with("L#")).collect();
    assert!(left.is_empty(), "no listing left, the caller's number's included: {left:?}");
    let day = calltrack_core::call_index::day_of(T0);
    let query =
        StatsQuery { tenant: TenantId::parse("tenant", "acme").unwrap(), dimension: Dimension::Day, since: day.clone(), until: day };
    assert_eq!(store.stats(&query).await.unwrap(), vec![], "no count left");
}
