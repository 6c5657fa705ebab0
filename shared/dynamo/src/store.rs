//! The ports on DynamoDB.
//!
//! A callback is one `TransactWriteItems` request:
//! - its event is put only if absent, so a redelivery is detected by that
//!   condition, never by a read first;
//! - the call is put merged with the callback, only if it is still the version
//!   the merge started from. When it is not, the failed condition returns the
//!   call as it stands (`ALL_OLD`), and the merge is redone from it, again with
//!   no read.
//!
//! The last version written of each call is remembered, so a warm Lambda
//! usually merges into the right version on its first try.
//!
//! A call is in one Twilio account (`accountSid`). A callback from another
//! account writes nothing: the merge refuses it ([`Call::apply`]) against the
//! call as it stands, and the call's put also requires the stored account to
//! be the callback's (or none), so not even an item whose version could not
//! be pinned takes it. When that condition fails, the item it returns tells a
//! foreign account from a race with another writer.
//!
//! A call's item is a cache of the merge of its events. One this version cannot
//! read (another version's, imported, edited by hand) never fails a callback:
//! the failed condition returns it, the call is rebuilt from what of it reads
//! and from its events ([`rebuild_call`]), and written over it under a
//! condition on the item exactly as it was, so a concurrent writer is met as
//! any other. Readers get the rebuilt call too; only writes repair. Each is
//! warned of ([`DynamoStore::on_warning`]).

use crate::TableNames;
use crate::index::{counter_from_item, counter_pk, index_writes, listing_pk, listing_pks, listing_sk, listing_start};
use crate::item::{
    ACCOUNT, INDEX_VERSION, INDEX_VERSION_OF, INDEXED, Item, VERSION, Warning, call_from_item, call_item, event_item, event_view,
    from_item, index_version, number, rebuild_call, storage, to_item,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, Select,
    TransactWriteItem, WriteRequest,
};
use calltrack_core::call::{Applied, Call, CallUpdate, ForeignAccount};
use calltrack_core::call_index::{COUNTER_SHARDS, Counts, Dimension, Filter, Listing, StatsQuery, listings};
use calltrack_core::disposition::DispositionChange;
use calltrack_core::ports::{
    CallerCall, CountCalls, DisposeCalls, EraseCallers, LookUpNumbers, ManageNumbers, ManageTenantNumbers, ReadCalls, RecordCalls,
    Recorded, StorageError,
};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallQuery, CallSummary, CallView, Cursor, MAX_STARTED_AT, Page, Scope, TenantId};
use calltrack_twilio::fields::{CallSid, Direction, Field, PhoneNumber};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How often a write is tried before storage counts as failed: each failed try
/// means another writer changed the call meanwhile, so this bounds contention,
/// not errors.
const MAX_ATTEMPTS: u32 = 64;
/// How often a write whose items DynamoDB throttled is tried before it fails.
const THROTTLED_TRIES: u32 = 3;
/// Calls remembered between writes; past this the memory starts over.
const REMEMBERED_CALLS: usize = 4096;
/// How many queries a filtered listing makes to fill one page before it
/// answers with what it found and a cursor to go on from.
const LISTING_ROUNDS: u32 = 8;

/// Calls, events and tracking numbers in DynamoDB.
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
    /// How long an event's raw parameters are kept before TTL deletes them.
    event_retention: Duration,
    /// The last version of each call this process wrote or saw.
    known: Mutex<HashMap<CallSid, Stored>>,
    /// Write capacity consumed by `record`, in thousandths of a unit.
    write_milli_units: AtomicU64,
    /// Read capacity consumed by listings (`ReadCalls::calls`), in thousandths
    /// of a unit, and how many requests they made.
    read_milli_units: AtomicU64,
    read_requests: AtomicU64,
    jitter: RandomState,
    /// Told of every stored item that could not be read as it stands.
    warn: Arc<dyn Fn(&Warning) + Send + Sync>,
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames, event_retention: Duration) -> Self {
        DynamoStore {
            client,
            tables,
            event_retention,
            known: Mutex::default(),
            write_milli_units: AtomicU64::new(0),
            read_milli_units: AtomicU64::new(0),
            read_requests: AtomicU64::new(0),
            jitter: RandomState::new(),
            warn: Arc::new(warn_in_log),
        }
    }

    /// Where warnings of unreadable items go (by default the `tracing` log, as
    /// every function's lines): a test can collect them.
    pub fn on_warning(mut self, warn: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        self.warn = Arc::new(warn);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &TableNames {
        &self.tables
    }

    /// Write capacity units consumed by [`RecordCalls::record`] so far, as DynamoDB
    /// reported them (`ReturnConsumedCapacity`), indexes included.
    pub fn write_capacity_units(&self) -> f64 {
        self.write_milli_units.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Requests made and read capacity units consumed by listings
    /// ([`ReadCalls::calls`]) so far, as DynamoDB reported them.
    pub fn reads(&self) -> (u64, f64) {
        (self.read_requests.load(Ordering::Relaxed), self.read_milli_units.load(Ordering::Relaxed) as f64 / 1000.0)
    }

    fn count_read(&self, capacity: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) {
        self.read_requests.fetch_add(1, Ordering::Relaxed);
        let units = capacity.and_then(|c| c.capacity_units()).unwrap_or_default();
        self.read_milli_units.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
    }

    fn remembered(&self, call_sid: &CallSid) -> Option<Stored> {
        self.known.lock().expect("not poisoned").get(call_sid).cloned()
    }

    fn remember(&self, stored: &Stored) {
        let mut known = self.known.lock().expect("not poisoned");
        if known.len() >= REMEMBERED_CALLS {
            known.clear();
        }
        known.insert(stored.call.call_sid, stored.clone());
    }

    /// One attempt: the event if new, and the call as `expected` with the update
    /// applied; nothing when the update is from another account than `expected`'s.
    async fn try_record(&self, update: &CallUpdate, expected: Option<&Stored>) -> Result<Attempt, StorageError> {
        let mut applied = match Call::apply(expected.map(|old| old.call.clone()), update.call.clone()) {
            Ok(applied) => applied,
            Err(foreign) => return Ok(Attempt::Foreign(foreign)),
        };
        if applied.call.prior_calls.is_none()
            && let (Some(tenant), Some(caller)) = (&applied.call.tenant_id, applied.call.customer())
        {
            let prior = self.prior_calls(tenant, caller, &applied.call).await?;
            applied.call = applied.call.with_prior_calls(prior);
        }
        let version = expected.map_or(0, |old| old.version) + 1;
        let index = index_writes(&self.tables.index, expected.and_then(Stored::indexed), Some(&applied.call))?;

        let event = Put::builder()
            .table_name(&self.tables.events)
            .set_item(Some(event_item(&update.event, self.event_retention)))
            .condition_expression("attribute_not_exists(callSid)")
            .build()
            .map_err(storage)?;
        let call = Put::builder()
            .table_name(&self.tables.calls)
            .set_item(Some(call_item(&applied.call, version)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let call = match expected.map(|old| &old.lock) {
            // Only as the version merged from: the item exactly as it was, when it was one this version could not read.
            Some(Some(at @ (AttributeValue::N(_) | AttributeValue::S(_) | AttributeValue::B(_)))) => call
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":expected", at.clone()),
            // A version of another type: any write of ours since has made it a number.
            Some(Some(other)) => call
                .condition_expression("attribute_type(#version, :type)")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":type", AttributeValue::S(type_of(other).into())),
            Some(None) => call
                .condition_expression("attribute_exists(callSid) AND attribute_not_exists(#version)")
                .expression_attribute_names("#version", VERSION),
            None => call.condition_expression("attribute_not_exists(callSid)"),
        };
        // And only as a call of the update's account, or of none yet. An
        // `accountSid` that is no account SID (not a string, not `AC` and 32
        // more characters) is no account: the write repairs it.
        let call = match update.call.account_sid.filter(|_| expected.is_some()) {
            Some(account) => {
                let pinned = call.get_condition_expression().clone().unwrap_or_default();
                call.condition_expression(format!(
                    "({pinned}) AND (attribute_not_exists(#account) OR NOT attribute_type(#account, :string) \
                     OR NOT begins_with(#account, :ac) OR size(#account) <> :sid_length OR #account = :account)"
                ))
                .expression_attribute_names("#account", ACCOUNT)
                .expression_attribute_values(":account", AttributeValue::S(account.as_str().to_owned()))
                .expression_attribute_values(":string", AttributeValue::S("S".into()))
                .expression_attribute_values(":ac", AttributeValue::S("AC".into()))
                .expression_attribute_values(":sid_length", AttributeValue::N(account.as_str().len().to_string()))
            }
            None => call,
        }
        .build()
        .map_err(storage)?;

        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(
                // The event and the call first: a cancellation's reasons are read by position.
                [TransactWriteItem::builder().put(event).build(), TransactWriteItem::builder().put(call).build()]
                    .into_iter()
                    .chain(index)
                    .collect(),
            ))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await;
        match sent {
            Ok(output) => {
                let units: f64 = output.consumed_capacity().iter().filter_map(|c| c.capacity_units()).sum();
                self.write_milli_units.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
                Ok(Attempt::Written(Box::new(applied), version))
            }
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => {
                    let reasons = canceled.cancellation_reasons();
                    let failed = |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
                    let current = reasons.get(1).and_then(|r| r.item()).map(|item| Stored::read(item.clone()));
                    // The call is another account's: whatever else failed, the callback is not its.
                    if let Some(Ok(stored)) = &current
                        && let Some(foreign) = stored.call.foreign_account(&update.call)
                    {
                        return Ok(Attempt::Foreign(foreign));
                    }
                    if failed(0) {
                        Ok(Attempt::Duplicate(current.and_then(Result::ok)))
                    } else if failed(1) {
                        Ok(Attempt::Stale(current))
                    } else if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                        Ok(Attempt::Contended)
                    } else if reasons
                        .iter()
                        .any(|r| matches!(r.code(), Some("ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded")))
                    {
                        Ok(Attempt::Throttled(storage(DisplayErrorContext(err))))
                    } else {
                        Err(storage(DisplayErrorContext(err)))
                    }
                }
                // Throttling outside a transaction's items is not contention:
                // the SDK has already retried it with backoff, and a failure
                // lets the route queue the callback.
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => Ok(Attempt::Contended),
                _ => Err(storage(DisplayErrorContext(err))),
            },
        }
    }

    /// A short random pause that grows with each contended attempt.
    async fn back_off(&self, attempt: u32) {
        let ceiling_ms = 2u64 << attempt.min(6);
        let pause = self.jitter.hash_one((attempt, SystemTime::now())) % ceiling_ms + 1;
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }

    /// A call's item as it stands (a strongly consistent read), or only the
    /// attributes `projection` names.
    async fn read_call(&self, call_sid: &CallSid, projection: Option<&str>) -> Result<Option<Item>, StorageError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.calls)
            .key("callSid", AttributeValue::S(call_sid.to_string()))
            .set_projection_expression(projection.map(str::to_owned))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        Ok(output.item)
    }

    /// A call's events (a strongly consistent query), or only the attributes
    /// `projection` names.
    async fn events_of(&self, call_sid: &str, projection: Option<&str>) -> Result<Vec<Item>, StorageError> {
        self.client
            .query()
            .table_name(&self.tables.events)
            .key_condition_expression("callSid = :callSid")
            .expression_attribute_values(":callSid", AttributeValue::S(call_sid.to_owned()))
            .set_projection_expression(projection.map(str::to_owned))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))
    }

    /// A call whose item this version cannot read, rebuilt from it and its events.
    async fn rebuild(&self, call_sid: CallSid, item: &Item, fallback_at: i64) -> Result<crate::item::Rebuilt, StorageError> {
        let events = self.events_of(call_sid.as_str(), None).await?;
        Ok(rebuild_call(call_sid, item, events, fallback_at))
    }

    fn warn(&self, call_sid: &str, unreadable: Vec<String>, action: String) {
        (self.warn)(&Warning { call_sid: call_sid.to_owned(), unreadable, action });
    }

    /// Every item of `table`, page after page.
    async fn scan_all<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, StorageError> {
        scan(self.client.scan().table_name(table)).await?.into_iter().map(from_item).collect()
    }

    /// Whole calls for keys found in an index, in the keys' order.
    async fn calls_by_sid(&self, sids: &[String]) -> Result<Vec<Call>, StorageError> {
        let mut found: HashMap<String, Call> = HashMap::new();
        for chunk in sids.chunks(100) {
            let keys = chunk.iter().map(|sid| HashMap::from([("callSid".to_owned(), AttributeValue::S(sid.clone()))])).collect();
            let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(keys)).build().map_err(storage)?);
            for attempt in 0.. {
                let Some(request) = pending.take() else { break };
                if attempt >= MAX_ATTEMPTS {
                    return Err(StorageError("calls table: batch read kept coming back unprocessed".into()));
                }
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.tables.calls, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| storage(DisplayErrorContext(e)))?;
                self.count_read(output.consumed_capacity().first());
                for item in output.responses.unwrap_or_default().remove(&self.tables.calls).unwrap_or_default() {
                    if let Some(call) = self.readable_call(item).await? {
                        found.insert(call.call_sid.to_string(), call);
                    }
                }
                pending = output.unprocessed_keys.unwrap_or_default().remove(&self.tables.calls);
                if pending.is_some() {
                    self.back_off(attempt).await;
                }
            }
        }
        Ok(sids.iter().filter_map(|sid| found.remove(sid)).collect())
    }

    /// Puts every call stored before the calls' index existed (its item has no
    /// `indexed` version) in the index, and moves every call indexed by an
    /// older [`INDEX_VERSION`] to today's keys, oldest first, each in one
    /// transaction conditional on its version, counting its caller's earlier
    /// calls as a callback would. An operator's command (`calltrack calls
    /// reindex`): it scans the calls table. Running it again is harmless.
    pub async fn reindex(&self) -> Result<Reindexed, StorageError> {
        let items = scan(
            self.client
                .scan()
                .table_name(&self.tables.calls)
                .filter_expression("attribute_not_exists(#indexed) OR attribute_not_exists(#version_of) OR #version_of <> :current")
                .expression_attribute_names("#indexed", INDEXED)
                .expression_attribute_names("#version_of", INDEX_VERSION_OF)
                .expression_attribute_values(":current", number(INDEX_VERSION))
                .consistent_read(true),
        )
        .await?;
        let mut report = Reindexed::default();
        let mut calls = Vec::new();
        for item in items {
            match Stored::read(item) {
                Ok(stored) => calls.push(stored),
                // Its next callback rebuilds it, and indexes it whole.
                Err(_) => report.unreadable += 1,
            }
        }
        calls.sort_by_key(|stored| (stored.call.started_at, stored.call.call_sid));
        for stored in calls {
            let mut call = stored.call.clone();
            if call.prior_calls.is_none()
                && let (Some(tenant), Some(caller)) = (&call.tenant_id, call.customer())
            {
                let prior = self.prior_calls(tenant, caller, &call).await?;
                call = call.with_prior_calls(prior);
            }
            let items = self.replacement(&stored, &call)?;
            match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => report.indexed += 1,
                // A callback wrote it meanwhile (and indexed it whole), or another
                // transaction held a counter: the next run finds it if it is still not indexed as today.
                Err(err) if retried(&err) => report.changed += 1,
                Err(err) => return Err(storage(DisplayErrorContext(err))),
            }
        }
        Ok(report)
    }

    /// The transaction that writes `after` over `stored`, only as the version
    /// read, with the index writes that move it from how it was indexed.
    fn replacement(&self, stored: &Stored, after: &Call) -> Result<Vec<TransactWriteItem>, StorageError> {
        let put = Put::builder()
            .table_name(&self.tables.calls)
            .set_item(Some(call_item(after, stored.version + 1)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":expected", number(stored.version))
            .build()
            .map_err(storage)?;
        let index = index_writes(&self.tables.index, stored.indexed(), Some(after))?;
        Ok(std::iter::once(TransactWriteItem::builder().put(put).build()).chain(index).collect())
    }

    /// A call whose item does not read but says it is indexed, rebuilt from it
    /// and its events: what its index entries and counts were most likely made
    /// from, for an erasure to take them away too (before its events go).
    async fn unreadable_but_indexed(&self, call_sid: &str) -> Result<Option<(Call, u8)>, StorageError> {
        let Ok(sid) = CallSid::parse("callSid", call_sid) else { return Ok(None) };
        let Some(item) = self.read_call(&sid, None).await? else { return Ok(None) };
        let version = index_version(&item);
        if Stored::read(item.clone()).is_ok() || version == 0 {
            return Ok(None);
        }
        Ok(Some((self.rebuild(sid, &item, now_ms()).await?.call, version)))
    }

    /// Deletes a call's item, and its index entries and share of the counters
    /// with it, as the version read. An item that does not read goes with what
    /// `rebuilt` (its rebuild, when it said it was indexed) put in the index,
    /// as best as can be told, or else alone.
    async fn delete_call(&self, call_sid: &str, rebuilt: Option<(Call, u8)>) -> Result<(), StorageError> {
        let key = || AttributeValue::S(call_sid.to_owned());
        for attempt in 0..MAX_ATTEMPTS {
            let item = self
                .client
                .get_item()
                .table_name(&self.tables.calls)
                .key("callSid", key())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| storage(DisplayErrorContext(e)))?
                .item;
            let Some(Ok(stored)) = item.map(Stored::read) else {
                let delete = Delete::builder().table_name(&self.tables.calls).key("callSid", key()).build().map_err(storage)?;
                let index = index_writes(&self.tables.index, rebuilt.as_ref().map(|(call, version)| (call, *version)), None)?;
                let items = std::iter::once(TransactWriteItem::builder().delete(delete).build()).chain(index).collect();
                self.client
                    .transact_write_items()
                    .set_transact_items(Some(items))
                    .send()
                    .await
                    .map_err(|e| storage(DisplayErrorContext(e)))?;
                return Ok(());
            };
            let delete = Delete::builder()
                .table_name(&self.tables.calls)
                .key("callSid", key())
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":expected", number(stored.version))
                .build()
                .map_err(storage)?;
            let index = index_writes(&self.tables.index, stored.indexed(), None)?;
            let items = std::iter::once(TransactWriteItem::builder().delete(delete).build()).chain(index).collect();
            match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => return Ok(()),
                Err(err) if retried(&err) => self.back_off(attempt).await,
                Err(err) => return Err(storage(DisplayErrorContext(err))),
            }
        }
        Err(StorageError(format!("call {call_sid} is contended: gave up deleting it after {MAX_ATTEMPTS} attempts")))
    }

    /// The keys (start, SID) of up to `want` calls of `source` after `position`
    /// within the query's times, newest first, and whether more may follow.
    /// A sharded listing's partitions are read at once and merged.
    async fn keys_after(
        &self,
        source: &Source,
        query: &CallQuery,
        position: Option<Cursor>,
        want: Option<usize>,
    ) -> Result<(Vec<Cursor>, bool), StorageError> {
        let partitions = match source {
            Source::User(key) => vec![self.keys_in(Partition::User(key), query, position, want)],
            Source::Listing(pks) => pks.iter().map(|pk| self.keys_in(Partition::Listing(pk), query, position, want)).collect(),
        };
        let found = futures_util::future::try_join_all(partitions).await?;
        if found.len() == 1 {
            let (keys, stop) = found.into_iter().next().expect("one");
            return Ok((keys, stop.is_some()));
        }
        Ok(merge_newest_first(found, want))
    }

    /// [`Self::keys_after`] in one partition, and where it stopped when more
    /// may follow (its last key read; [`Stop::Unknown`] when that is no call's).
    async fn keys_in(
        &self,
        partition: Partition<'_>,
        query: &CallQuery,
        position: Option<Cursor>,
        want: Option<usize>,
    ) -> Result<(Vec<Cursor>, Option<Stop>), StorageError> {
        // No call started before 1970: a negative time would sort wrongly as text.
        let (since, until) = (query.since.unwrap_or(0).max(0), query.until.unwrap_or(i64::MAX).max(0));
        let request = match partition {
            Partition::User(key) => self
                .client
                .query()
                .table_name(&self.tables.calls)
                .index_name("ByUser")
                .key_condition_expression("tenantUser = :key AND startedAt BETWEEN :since AND :until")
                .expression_attribute_values(":key", AttributeValue::S(key.to_owned()))
                .expression_attribute_values(":since", number(since))
                .expression_attribute_values(":until", number(until))
                .set_exclusive_start_key(position.map(|cursor| start_key("tenantUser", key, cursor))),
            // A listing's entries are in a table of their own: read consistently.
            Partition::Listing(pk) => self
                .client
                .query()
                .table_name(&self.tables.index)
                .key_condition_expression("pk = :pk AND sk BETWEEN :since AND :until")
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .expression_attribute_values(":since", AttributeValue::S(listing_sk(since, "")))
                // `~` sorts after every character of a CallSid.
                .expression_attribute_values(":until", AttributeValue::S(listing_sk(until.min(MAX_STARTED_AT), "~")))
                .consistent_read(true)
                .set_exclusive_start_key(position.map(|cursor| listing_start(pk, cursor))),
        };
        let output = request
            .scan_index_forward(false)
            .set_limit(want.map(|w| w.min(1000) as i32))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        self.count_read(output.consumed_capacity());
        // A key that is no CallSid (an imported item) is left out, as a reader leaves out its call.
        let keys = output
            .items()
            .iter()
            .filter_map(|key| {
                cursor_of(key)
                    .inspect_err(|_| {
                        let sid = key.get("callSid").and_then(|k| k.as_s().ok()).cloned().unwrap_or_default();
                        self.warn(&sid, vec!["callSid (not a CallSid)".into()], "left out".into());
                    })
                    .ok()
            })
            .collect::<Vec<_>>();
        // DynamoDB says where it stopped when it stopped at the limit or at 1 MB.
        let stop = output.last_evaluated_key.as_ref().map(|last| match partition {
            Partition::User(_) => cursor_of(last).map_or(Stop::Unknown, Stop::At),
            Partition::Listing(_) => listing_cursor(last).map_or(Stop::Unknown, Stop::At),
        });
        Ok((keys, stop))
    }

    /// The calls at `keys`, each with its key, in the keys' order.
    async fn calls_at(&self, keys: &[Cursor]) -> Result<Vec<(Cursor, Call)>, StorageError> {
        let sids: Vec<String> = keys.iter().map(|k| k.call_sid.to_string()).collect();
        let mut calls: HashMap<CallSid, Call> = self.calls_by_sid(&sids).await?.into_iter().map(|c| (c.call_sid, c)).collect();
        Ok(keys.iter().filter_map(|key| Some((*key, calls.remove(&key.call_sid)?))).collect())
    }

    /// How many of `tenant`'s calls from `caller` started before `call`: a
    /// consistent count of the caller's listing, so never more than one query
    /// per call (its first write with an owner and a caller).
    async fn prior_calls(&self, tenant: &str, caller: &PhoneNumber, call: &Call) -> Result<u32, StorageError> {
        let pages = self
            .client
            .query()
            .table_name(&self.tables.index)
            .key_condition_expression("pk = :pk AND sk < :at")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(listing_pk(tenant, &Listing::By(Filter::Caller, caller.as_str().to_owned()), None)),
            )
            .expression_attribute_values(":at", AttributeValue::S(listing_sk(call.started_at, call.call_sid.as_str())))
            .select(Select::Count)
            .consistent_read(true)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        Ok(pages.iter().map(|page| page.count().max(0) as u32).sum())
    }

    /// A call for a reader: as stored, or when its item does not read, rebuilt
    /// from it and its events (and left as it is: the call's next callback
    /// repairs it). `None`, with a warning, for an item whose key is no `CallSid`.
    async fn readable_call(&self, item: Item) -> Result<Option<Call>, StorageError> {
        let item = match Stored::read(item) {
            Ok(stored) => return Ok(Some(stored.call)),
            Err(item) => item,
        };
        let key = item.get("callSid").and_then(|k| k.as_s().ok()).cloned().unwrap_or_default();
        let Ok(call_sid) = CallSid::parse("callSid", &key) else {
            self.warn(&key, vec!["callSid (not a CallSid)".into()], "left out".into());
            return Ok(None);
        };
        let rebuilt = self.rebuild(call_sid, &item, now_ms()).await?;
        let action = format!("rebuilt from its {} events for this read; its next callback writes it back", rebuilt.events);
        self.warn(&key, rebuilt.unreadable, action);
        Ok(Some(rebuilt.call))
    }
}

/// Now, in ms since the epoch: a rebuilt call's times when nothing stored has
/// any, and what the placements' items expire against.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The default warning: a line in the functions' log.
fn warn_in_log(warning: &Warning) {
    tracing::warn!(
        call_sid = warning.call_sid,
        unreadable = warning.unreadable.join(", "),
        action = warning.action,
        "stored call could not be read as it stands"
    );
}

/// Every item a scan finds, page after page.
async fn scan(request: aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder) -> Result<Vec<Item>, StorageError> {
    request.into_paginator().items().send().collect::<Result<_, _>>().await.map_err(|e| storage(DisplayErrorContext(e)))
}

/// DynamoDB's name for an attribute value's type, as `attribute_type` takes it.
fn type_of(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        _ => "unknown",
    }
}

/// What [`DynamoStore::reindex`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reindexed {
    /// Calls put in the index.
    pub indexed: usize,
    /// Calls a callback wrote meanwhile (and so indexed): nothing to do.
    pub changed: usize,
    /// Items that do not read as this version writes them: their next callback rebuilds and indexes them.
    pub unreadable: usize,
}

/// A call as stored, with its version.
#[derive(Clone)]
struct Stored {
    call: Call,
    /// The version to count on from: the next write is `version + 1`.
    version: u64,
    /// The item's `version` as it is, which the next write requires (none: absent).
    lock: Option<AttributeValue>,
    /// How its entries are keyed in the calls' index ([`INDEX_VERSION`]): 0
    /// for a call written before the index existed (or by hand), whose next
    /// write adds them all; an older version's move to today's keys.
    index: u8,
}

impl Stored {
    fn new(call: Call, version: u64) -> Self {
        Stored { call, version, lock: Some(number(version)), index: INDEX_VERSION }
    }

    /// The call and its version; the item itself when it does not read.
    fn read(item: Item) -> Result<Self, Item> {
        match call_from_item(item.clone()) {
            Ok((call, version)) => Ok(Stored { index: index_version(&item), ..Stored::new(call, version) }),
            Err(_) => Err(item),
        }
    }

    /// The call as its index entries have it, and their keys' version: none
    /// when it has none.
    fn indexed(&self) -> Option<(&Call, u8)> {
        (self.index > 0).then_some((&self.call, self.index))
    }
}

enum Attempt {
    /// Written: the call as stored now and what the callback changed, and the call's version.
    Written(Box<Applied>, u64),
    /// The event exists: a redelivery. Carries the call if DynamoDB returned it.
    Duplicate(Option<Stored>),
    /// The call is not the version merged from; here it is as it stands (none:
    /// absent), or its item, when it does not read.
    Stale(Option<Result<Stored, Item>>),
    /// Another transaction held the items; try again shortly.
    Contended,
    /// DynamoDB throttled the transaction's items (which the SDK does not
    /// retry): a few tries with exponential backoff, then this error.
    Throttled(StorageError),
    /// The call is in another account than the update: nothing was written.
    Foreign(ForeignAccount),
}

impl LookUpNumbers for DynamoStore {
    async fn tracking_number(&self, number: &PhoneNumber) -> Result<Option<TrackingNumber>, StorageError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.numbers)
            .key("phoneNumber", AttributeValue::S(number.as_str().to_owned()))
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        output.item.map(from_item).transpose()
    }
}

impl ManageNumbers for DynamoStore {
    async fn put_tracking_number(&self, number: &TrackingNumber) -> Result<(), StorageError> {
        self.client
            .put_item()
            .table_name(&self.tables.numbers)
            .set_item(Some(to_item(number)?))
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn remove_tracking_number(&self, number: &PhoneNumber) -> Result<bool, StorageError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.tables.numbers)
            .key("phoneNumber", AttributeValue::S(number.as_str().to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        Ok(output.attributes.is_some())
    }

    async fn tracking_numbers(&self) -> Result<Vec<TrackingNumber>, StorageError> {
        let mut numbers: Vec<TrackingNumber> = self.scan_all(&self.tables.numbers).await?;
        numbers.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        Ok(numbers)
    }
}

impl ManageTenantNumbers for DynamoStore {
    async fn numbers_of(&self, tenant: &TenantId) -> Result<Vec<TrackingNumber>, StorageError> {
        let pages = self
            .client
            .query()
            .table_name(&self.tables.numbers)
            .index_name("ByTenant")
            .key_condition_expression("tenantId = :tenant")
            .expression_attribute_values(":tenant", AttributeValue::S(tenant.to_string()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<Item>, _>>()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        // An index is eventually consistent: a number can have moved since.
        let numbers: Vec<TrackingNumber> = pages.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(numbers.into_iter().filter(|n| n.tenant_id == tenant.as_str()).collect())
    }

    async fn put_number_of(&self, number: &TrackingNumber) -> Result<bool, StorageError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.tables.numbers)
            .set_item(Some(to_item(number)?))
            .condition_expression("tenantId = :tenant")
            .expression_attribute_values(":tenant", AttributeValue::S(number.tenant_id.clone()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(err) => Err(storage(DisplayErrorContext(err))),
        }
    }

    async fn remove_number_of(&self, tenant: &TenantId, number: &PhoneNumber) -> Result<bool, StorageError> {
        let removed = self
            .client
            .delete_item()
            .table_name(&self.tables.numbers)
            .key("phoneNumber", AttributeValue::S(number.as_str().to_owned()))
            .condition_expression("tenantId = :tenant")
            .expression_attribute_values(":tenant", AttributeValue::S(tenant.to_string()))
            .send()
            .await;
        match removed {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(err) => Err(storage(DisplayErrorContext(err))),
        }
    }
}

impl RecordCalls for DynamoStore {
    async fn record(&self, update: &CallUpdate) -> Result<Recorded, StorageError> {
        let call_sid = update.call.call_sid;
        let mut expected = self.remembered(&call_sid);
        // The unreadable item `expected` was rebuilt from, and what could not be read.
        let mut rebuilt: Option<(Item, Vec<String>, usize)> = None;
        let mut throttled = 0;
        for attempt in 0..MAX_ATTEMPTS {
            match self.try_record(update, expected.as_ref()).await? {
                Attempt::Written(applied, version) => {
                    if let Some((_, unreadable, events)) = rebuilt {
                        self.warn(call_sid.as_str(), unreadable, format!("rebuilt from its {events} events and written back"));
                    }
                    self.remember(&Stored::new(applied.call.clone(), version));
                    return Ok(Recorded::Applied(applied));
                }
                Attempt::Duplicate(current) => {
                    let owned = [current.as_ref(), expected.as_ref()].into_iter().flatten().any(|stored| stored.call.attributed);
                    current.inspect(|stored| self.remember(stored));
                    return Ok(Recorded::Duplicate { owned });
                }
                Attempt::Stale(None) => (expected, rebuilt) = (None, None),
                Attempt::Stale(Some(Ok(current))) => (expected, rebuilt) = (Some(current), None),
                Attempt::Stale(Some(Err(item))) => {
                    // Written over, under a condition on exactly this item. Were it
                    // to come back unchanged, the condition could never hold: fail
                    // rather than read the events again and again.
                    if rebuilt.as_ref().is_some_and(|(from, _, _)| *from == item) {
                        return Err(StorageError(format!("call {call_sid}: its unreadable item could not be replaced")));
                    }
                    let call = self.rebuild(call_sid, &item, update.event.received_at).await?;
                    let index = index_version(&item);
                    expected = Some(Stored { call: call.call, version: call.version, lock: item.get(VERSION).cloned(), index });
                    rebuilt = Some((item, call.unreadable, call.events));
                }
                Attempt::Contended => self.back_off(attempt).await,
                Attempt::Throttled(err) => {
                    throttled += 1;
                    if throttled >= THROTTLED_TRIES {
                        return Err(err);
                    }
                    self.back_off(throttled + 4).await;
                }
                Attempt::Foreign(foreign) => return Ok(Recorded::ForeignAccount(foreign)),
            }
        }
        Err(StorageError(format!("call {call_sid} is contended: gave up after {MAX_ATTEMPTS} attempts")))
    }
}

impl ReadCalls for DynamoStore {
    async fn call(&self, scope: &Scope, call_sid: &CallSid) -> Result<Option<CallView>, StorageError> {
        let Some(item) = self.read_call(call_sid, None).await? else { return Ok(None) };
        let (call, items) = match Stored::read(item) {
            Ok(stored) => {
                if !scope.allows(stored.call.tenant_id.as_deref()) {
                    return Ok(None);
                }
                (stored.call, self.events_of(call_sid.as_str(), None).await?)
            }
            Err(item) => {
                let items = self.events_of(call_sid.as_str(), None).await?;
                let rebuilt = rebuild_call(*call_sid, &item, items.clone(), now_ms());
                if !scope.allows(rebuilt.call.tenant_id.as_deref()) {
                    return Ok(None);
                }
                let action = format!("rebuilt from its {} events for this read; its next callback writes it back", rebuilt.events);
                self.warn(call_sid.as_str(), rebuilt.unreadable, action);
                (rebuilt.call, items)
            }
        };
        let mut events = Vec::with_capacity(items.len());
        for item in items {
            let key = item.get("eventKey").and_then(|k| k.as_s().ok()).cloned().unwrap_or_default();
            match event_view(item) {
                Ok(event) => events.push(event),
                Err(_) => self.warn(call_sid.as_str(), vec![format!("event {key} (unreadable)")], "event left out".into()),
            }
        }
        Ok(Some(CallView::new(&call, events)))
    }

    /// One query of the listing `query` is best served by ([`Source::of`]),
    /// then one batch read of the calls it found; more rounds only while the
    /// calls found do not match the rest of the query and fill no page.
    async fn calls(&self, query: &CallQuery) -> Result<Page<CallSummary>, StorageError> {
        let limit = query.limit.map(|l| l.clamp(1, 1000) as usize);
        let source = Source::of(query);
        let mut position = query.cursor;
        let mut found: Vec<(Cursor, Call)> = Vec::new();
        for _ in 0..LISTING_ROUNDS {
            // One more than a page, to tell whether another page follows.
            let want = limit.map(|l| l + 1 - found.len());
            let (keys, more) = self.keys_after(&source, query, position, want).await?;
            position = keys.last().copied().or(position);
            let calls = self.calls_at(&keys).await?;
            found.extend(calls.into_iter().filter(|(_, call)| matches(query, call)));
            if let Some(l) = limit
                && found.len() > l
            {
                found.truncate(l);
                let next_cursor = found.last().map(|(cursor, _)| *cursor);
                return Ok(Page { items: found.iter().map(|(_, c)| CallSummary::from(c)).collect(), next_cursor });
            }
            if !more {
                return Ok(Page { items: found.iter().map(|(_, c)| CallSummary::from(c)).collect(), next_cursor: None });
            }
        }
        // The page is not full, but the listing goes on from where it stopped.
        Ok(Page { items: found.iter().map(|(_, c)| CallSummary::from(c)).collect(), next_cursor: position })
    }

    async fn is_attributed(&self, call_sid: &CallSid) -> Result<Option<bool>, StorageError> {
        let item = self.read_call(call_sid, Some("attributed")).await?;
        Ok(item.map(|item| item.get("attributed").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)))
    }
}

/// Where a listing's calls are found: the calls table's index of a user's
/// calls, or a listing's partitions in the calls' index table. Each is sorted
/// by start, then SID, so one cursor continues any of them.
enum Source {
    /// `ByUser`'s key: `{tenant}#{user}`.
    User(String),
    /// A listing's partitions: its one, or each of its shards.
    Listing(Vec<String>),
}

/// Where a partition's query stopped, with more to follow.
#[derive(Clone, Copy)]
enum Stop {
    /// At this key: what is older is still to read.
    At(Cursor),
    /// At a key that is no call's (an imported entry): only what the
    /// partition returned is known to be complete.
    Unknown,
}

/// The keys of several partitions of one listing, each newest first (and
/// where it stopped, if it did), merged newest first: up to `want`, and only
/// as far back as every partition has been read, so that a next round from
/// the last key skips nothing. Whether more may follow.
fn merge_newest_first(found: Vec<(Vec<Cursor>, Option<Stop>)>, want: Option<usize>) -> (Vec<Cursor>, bool) {
    // The listing's sort key's order: a SID's bytes compare as its text does.
    let order = |c: &Cursor| (c.started_at, c.call_sid);
    // The newest point at which a partition stopped: older keys of other partitions wait for it.
    let mut frontier: Option<(i64, CallSid)> = None;
    // A partition stopped before any key known to be a call's: nothing is complete.
    let mut none_complete = false;
    let mut stopped = false;
    let mut keys = Vec::new();
    for (partition_keys, stop) in found {
        match stop {
            None => {}
            Some(Stop::At(cursor)) => frontier = frontier.max(Some(order(&cursor))),
            // Nothing older than its own last key is known.
            Some(Stop::Unknown) => match partition_keys.last() {
                Some(last) => frontier = frontier.max(Some(order(last))),
                None => none_complete = true,
            },
        }
        stopped |= stop.is_some();
        keys.extend(partition_keys);
    }
    keys.sort_by_key(|key| std::cmp::Reverse(order(key)));
    let before = keys.len();
    match frontier {
        _ if none_complete => keys.clear(),
        Some(frontier) => keys.retain(|key| order(key) >= frontier),
        None => {}
    }
    if let Some(want) = want {
        keys.truncate(want);
    }
    let cut = keys.len() < before;
    (keys, stopped || cut)
}

/// The cursor of a listing entry's key (its `sk`), for where a query stopped.
fn listing_cursor(key: &Item) -> Result<Cursor, StorageError> {
    let sk = key.get("sk").and_then(|v| v.as_s().ok()).ok_or_else(|| StorageError("a listing key without sk".into()))?;
    let (started_at, call_sid) = sk.split_once('#').ok_or_else(|| StorageError(format!("a listing key {sk} without #")))?;
    let started_at = started_at.parse().map_err(|_| StorageError(format!("a listing key {sk} without a start")))?;
    let call_sid = CallSid::parse("callSid", call_sid).map_err(|e| StorageError(e.to_string()))?;
    Ok(Cursor { started_at, call_sid })
}

/// One partition of a [`Source`].
#[derive(Clone, Copy)]
enum Partition<'a> {
    User(&'a str),
    Listing(&'a str),
}

impl Source {
    /// The narrowest of the query's keys: a CRM link, the caller, a tag, a
    /// lead status, a tracking number or a lead source before the user, the
    /// user before qualified, and all of the tenant's calls last. The rest of
    /// the query filters the calls found ([`matches`]).
    fn of(query: &CallQuery) -> Source {
        let tenant = query.tenant.as_str();
        let listing = |listing: Listing| Source::Listing(listing_pks(tenant, &listing));
        let narrowest = |rank: &[Filter]| {
            rank.iter().find_map(|filter| query.filters.iter().find(|(f, _)| f == filter)).map(|(f, v)| listing(Listing::By(*f, v.clone())))
        };
        use Filter::*;
        narrowest(&[ContactId, DealId, JobId, Caller, Tag, LeadStatus, TrackingNumber, LeadSource])
            .or_else(|| query.user_id.as_ref().map(|user| Source::User(format!("{tenant}#{user}"))))
            .or_else(|| query.qualified_only.then(|| listing(Listing::Qualified)))
            .or_else(|| narrowest(&[FirstTimeCaller, Direction, Answered]))
            .unwrap_or_else(|| listing(Listing::All))
    }
}

/// Whether a call found through a key is one the query asks for: its tenant's
/// (an index is eventually consistent: a call can have moved since), and with
/// every filter the key did not serve.
fn matches(query: &CallQuery, call: &Call) -> bool {
    let entries = if query.filters.is_empty() { Default::default() } else { listings(call) };
    call.tenant_id.as_deref() == Some(query.tenant.as_str())
        && (!query.qualified_only || call.qualified)
        && query.user_id.as_ref().is_none_or(|user| call.user_id.as_ref() == Some(user))
        && query.filters.iter().all(|(filter, value)| entries.iter().any(|e| e.listing == Listing::By(*filter, value.clone())))
}

/// Where the next page of an index query starts: the index's own partition
/// (`key_name` = `key`, from the query, never from the cursor) and the
/// cursor's start time and call.
fn start_key(key_name: &str, key: &str, cursor: Cursor) -> Item {
    Item::from([
        (key_name.to_owned(), AttributeValue::S(key.to_owned())),
        ("startedAt".to_owned(), number(cursor.started_at)),
        ("callSid".to_owned(), AttributeValue::S(cursor.call_sid.to_string())),
    ])
}

/// The cursor of a page's last key.
fn cursor_of(key: &Item) -> Result<Cursor, StorageError> {
    let unreadable = || StorageError(format!("a page ended on a key without startedAt and callSid: {key:?}"));
    let started_at = key.get("startedAt").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).ok_or_else(unreadable)?;
    let call_sid = key.get("callSid").and_then(|v| v.as_s().ok()).and_then(|s| CallSid::parse("callSid", s).ok()).ok_or_else(unreadable)?;
    Ok(Cursor { started_at, call_sid })
}

impl DisposeCalls for DynamoStore {
    /// Read, change, and write back only as the version read, with the index
    /// entries and counters the change moves, in one transaction; a writer in
    /// between (a callback) means reading again.
    async fn dispose(
        &self,
        tenant: &TenantId,
        call_sid: &CallSid,
        change: &DispositionChange,
        by: &str,
        at: i64,
    ) -> Result<Option<Call>, StorageError> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some(item) = self.read_call(call_sid, None).await? else { return Ok(None) };
            let stored = Stored::read(item)
                .map_err(|_| StorageError(format!("call {call_sid} could not be read as it stands; its next callback repairs it")))?;
            if stored.call.tenant_id.as_deref() != Some(tenant.as_str()) {
                return Ok(None);
            }
            let Some(after) = stored.call.dispose(change, by, at) else { return Ok(Some(stored.call)) };
            let items = self.replacement(&stored, &after)?;
            match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => {
                    self.remember(&Stored::new(after.clone(), stored.version + 1));
                    return Ok(Some(after));
                }
                Err(err) if retried(&err) => self.back_off(attempt).await,
                Err(err) => return Err(storage(DisplayErrorContext(err))),
            }
        }
        Err(StorageError(format!("call {call_sid} is contended: gave up after {MAX_ATTEMPTS} attempts")))
    }
}

/// A transaction that failed on a condition (another writer came first) or
/// on another transaction holding its items: worth reading again and retrying.
fn retried(err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => {
            canceled.cancellation_reasons().iter().any(|r| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict")))
        }
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
        _ => false,
    }
}

impl CountCalls for DynamoStore {
    /// One query per shard, all at once, each reading only the dimension's
    /// counters of the days asked for.
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<(String, Counts)>, StorageError> {
        let shards = (0..COUNTER_SHARDS).map(|shard| {
            self.client
                .query()
                .table_name(&self.tables.index)
                .key_condition_expression("pk = :pk AND sk BETWEEN :since AND :until")
                .expression_attribute_values(":pk", AttributeValue::S(counter_pk(query.tenant.as_str(), query.dimension, shard)))
                .expression_attribute_values(":since", AttributeValue::S(format!("{}#", query.since)))
                // `$` sorts right after `#`: every group of the last day.
                .expression_attribute_values(":until", AttributeValue::S(format!("{}$", query.until)))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>()
        });
        let mut groups: std::collections::BTreeMap<String, Counts> = Default::default();
        for pages in futures_util::future::join_all(shards).await {
            for page in pages.map_err(|e| storage(DisplayErrorContext(e)))? {
                self.count_read(page.consumed_capacity());
                for (day, value, counts) in page.items().iter().filter_map(counter_from_item) {
                    let group = if query.dimension == Dimension::Day { day } else { value };
                    groups.entry(group).or_default().add(&counts, 1);
                }
            }
        }
        Ok(groups.into_iter().filter(|(_, counts)| !counts.is_zero()).collect())
    }
}

impl EraseCallers for DynamoStore {
    /// A paginated, filtered Scan of the calls table: there is no index on the
    /// caller, and this is an operator's command, never a webhook's.
    async fn calls_from(&self, caller: &PhoneNumber) -> Result<Vec<CallerCall>, StorageError> {
        let items = scan(
            self.client
                .scan()
                .table_name(&self.tables.calls)
                // The caller of a call in, or the customer a placed call called (Call::customer).
                .filter_expression("fromNumber = :from OR (toNumber = :from AND direction = :placed)")
                .expression_attribute_values(":from", AttributeValue::S(caller.as_str().to_owned()))
                .expression_attribute_values(":placed", AttributeValue::S(Direction::OutboundApi.as_str().to_owned()))
                .projection_expression("callSid, tenantId, startedAt")
                .consistent_read(true),
        )
        .await?;
        let mut calls: Vec<CallerCall> = items
            .iter()
            .filter_map(|item| {
                Some(CallerCall {
                    call_sid: item.get("callSid")?.as_s().ok()?.clone(),
                    tenant_id: item.get("tenantId").and_then(|t| t.as_s().ok()).cloned(),
                    started_at: item.get("startedAt").and_then(|t| t.as_n().ok()).and_then(|n| n.parse().ok()),
                })
            })
            .collect();
        calls.sort_by(|a, b| (a.started_at, &a.call_sid).cmp(&(b.started_at, &b.call_sid)));
        Ok(calls)
    }

    /// The events first, in `BatchWriteItem`s of 25, then the call: stopped
    /// halfway, the call is still there to be found and erased again.
    async fn erase_call(&self, call_sid: &str) -> Result<usize, StorageError> {
        let keys = self.events_of(call_sid, Some("callSid, eventKey")).await?;
        let rebuilt = self.unreadable_but_indexed(call_sid).await?;
        for chunk in keys.chunks(25) {
            let deletes: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder().set_key(Some(key.clone())).build().map_err(storage)?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<_, StorageError>>()?;
            let mut pending = Some(deletes);
            for attempt in 0.. {
                let Some(requests) = pending.take().filter(|r| !r.is_empty()) else { break };
                if attempt >= MAX_ATTEMPTS {
                    return Err(StorageError(format!("{}: batch delete kept coming back unprocessed", self.tables.events)));
                }
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.tables.events, requests)
                    .send()
                    .await
                    .map_err(|e| storage(DisplayErrorContext(e)))?;
                pending = output.unprocessed_items.unwrap_or_default().remove(&self.tables.events);
                if pending.as_ref().is_some_and(|r| !r.is_empty()) {
                    self.back_off(attempt).await;
                }
            }
        }
        self.delete_call(call_sid, rebuilt).await?;
        if let Ok(sid) = CallSid::parse("callSid", call_sid) {
            self.known.lock().expect("not poisoned").remove(&sid);
        }
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(started_at: i64, n: u32) -> Cursor {
        Cursor { started_at, call_sid: CallSid::parse("callSid", &format!("CA{n:032x}")).unwrap() }
    }

    #[test]
    fn shards_merge_newest_first_and_only_as_far_as_every_shard_was_read() {
        let starts = |keys: &[Cursor]| keys.iter().map(|k| k.started_at).collect::<Vec<_>>();
        // Shard A stopped at 70 with more to read; B read to its end.
        let a = (vec![key(90, 1), key(70, 2)], Some(Stop::At(key(70, 2))));
        let b = (vec![key(80, 3), key(60, 4), key(50, 5)], None);
        let (keys, more) = merge_newest_first(vec![a.clone(), b.clone()], None);
        assert_eq!((starts(&keys), more), (vec![90, 80, 70], true), "60 and 50 wait: A may hold calls between 70 and them");
        let (keys, more) = merge_newest_first(vec![a, b.clone()], Some(2));
        assert_eq!((starts(&keys), more), (vec![90, 80], true));
        // Every shard read to its end: all, and nothing more.
        let (keys, more) = merge_newest_first(vec![(vec![key(70, 2)], None), b.clone()], None);
        assert_eq!((starts(&keys), more), (vec![80, 70, 60, 50], false));
        // Cut to `want`: more follows.
        assert!(merge_newest_first(vec![(vec![key(70, 2)], None), b.clone()], Some(3)).1);
        // A shard that stopped at a key that is no call's: only its own keys are known to be complete.
        let (keys, more) = merge_newest_first(vec![(vec![key(75, 6)], Some(Stop::Unknown)), b.clone()], None);
        assert_eq!((starts(&keys), more), (vec![80, 75], true));
        let (keys, more) = merge_newest_first(vec![(vec![], Some(Stop::Unknown)), b], None);
        assert_eq!((starts(&keys), more), (vec![], true));
        // The same start: the greater CallSid first, as the listing's sort key orders them.
        let (keys, _) = merge_newest_first(vec![(vec![key(70, 1)], None), (vec![key(70, 2)], None)], None);
        assert_eq!(keys, [key(70, 2), key(70, 1)]);
    }
}
