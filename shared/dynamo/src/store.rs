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

use crate::TableNames;
use crate::item::{Item, VERSION, call_from_item, call_item, event_item, event_view, from_item, number, storage, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use calltrack_core::call::{Applied, Call, CallUpdate};
use calltrack_core::ports::{LookUpNumbers, ManageNumbers, ReadCalls, RecordCalls, Recorded, StorageError};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallQuery, CallSummary, CallView, Page, Scope};
use calltrack_twilio::fields::{CallSid, PhoneNumber};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// How often a write is tried before storage counts as failed: each failed try
/// means another writer changed the call meanwhile, so this bounds contention,
/// not errors.
const MAX_ATTEMPTS: u32 = 64;
/// Calls remembered between writes; past this the memory starts over.
const REMEMBERED_CALLS: usize = 4096;

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
    jitter: RandomState,
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames, event_retention: Duration) -> Self {
        DynamoStore {
            client,
            tables,
            event_retention,
            known: Mutex::default(),
            write_milli_units: AtomicU64::new(0),
            jitter: RandomState::new(),
        }
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

    /// One attempt: the event if new, and the call as `expected` with the update applied.
    async fn try_record(&self, update: &CallUpdate, expected: Option<&Stored>) -> Result<Attempt, StorageError> {
        let applied = Call::apply(expected.map(|old| old.call.clone()), update.call.clone());
        let version = expected.map_or(0, |old| old.version) + 1;

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
        let call = match expected {
            Some(old) => call
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":expected", number(old.version)),
            None => call.condition_expression("attribute_not_exists(callSid)"),
        }
        .build()
        .map_err(storage)?;

        let sent = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(event).build())
            .transact_items(TransactWriteItem::builder().put(call).build())
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
                    let current = reasons.get(1).and_then(|r| r.item()).map(|item| Stored::from_item(item.clone())).transpose()?;
                    if failed(0) {
                        Ok(Attempt::Duplicate(current))
                    } else if failed(1) {
                        Ok(Attempt::Stale(current))
                    } else if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                        Ok(Attempt::Contended)
                    } else {
                        Err(storage(DisplayErrorContext(err)))
                    }
                }
                Some(TransactWriteItemsError::TransactionInProgressException(_))
                | Some(TransactWriteItemsError::ProvisionedThroughputExceededException(_))
                | Some(TransactWriteItemsError::RequestLimitExceeded(_)) => Ok(Attempt::Contended),
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

    /// Every item of `table`, page after page.
    async fn scan_all<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, StorageError> {
        let items: Vec<Item> = self
            .client
            .scan()
            .table_name(table)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        items.into_iter().map(from_item).collect()
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
                    .send()
                    .await
                    .map_err(|e| storage(DisplayErrorContext(e)))?;
                for item in output.responses.unwrap_or_default().remove(&self.tables.calls).unwrap_or_default() {
                    let (call, _) = call_from_item(item)?;
                    found.insert(call.call_sid.to_string(), call);
                }
                pending = output.unprocessed_keys.unwrap_or_default().remove(&self.tables.calls);
                if pending.is_some() {
                    self.back_off(attempt).await;
                }
            }
        }
        Ok(sids.iter().filter_map(|sid| found.remove(sid)).collect())
    }
}

/// A call as stored, with its version.
#[derive(Clone)]
struct Stored {
    call: Call,
    version: u64,
}

impl Stored {
    fn from_item(item: Item) -> Result<Self, StorageError> {
        let (call, version) = call_from_item(item)?;
        Ok(Stored { call, version })
    }
}

enum Attempt {
    /// Written: the call as stored now and what the callback changed, and the call's version.
    Written(Box<Applied>, u64),
    /// The event exists: a redelivery. Carries the call if DynamoDB returned it.
    Duplicate(Option<Stored>),
    /// The call is not the version merged from; here it is as it stands (none: absent).
    Stale(Option<Stored>),
    /// Another transaction held the items; try again shortly.
    Contended,
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

impl RecordCalls for DynamoStore {
    async fn record(&self, update: &CallUpdate) -> Result<Recorded, StorageError> {
        let call_sid = update.call.call_sid;
        let mut expected = self.remembered(&call_sid);
        for attempt in 0..MAX_ATTEMPTS {
            match self.try_record(update, expected.as_ref()).await? {
                Attempt::Written(applied, version) => {
                    self.remember(&Stored { call: applied.call.clone(), version });
                    return Ok(Recorded::Applied(applied));
                }
                Attempt::Duplicate(current) => {
                    current.inspect(|stored| self.remember(stored));
                    return Ok(Recorded::Duplicate);
                }
                Attempt::Stale(current) => expected = current,
                Attempt::Contended => self.back_off(attempt).await,
            }
        }
        Err(StorageError(format!("call {call_sid} is contended: gave up after {MAX_ATTEMPTS} attempts")))
    }
}

impl ReadCalls for DynamoStore {
    async fn call(&self, scope: &Scope, call_sid: &CallSid) -> Result<Option<CallView>, StorageError> {
        let Some((call, _)) = self.read_call(call_sid, None).await?.map(call_from_item).transpose()? else { return Ok(None) };
        if !scope.allows(call.tenant_id.as_deref()) {
            return Ok(None);
        }
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.tables.events)
            .key_condition_expression("callSid = :callSid")
            .expression_attribute_values(":callSid", AttributeValue::S(call_sid.to_string()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        let events = items.into_iter().map(event_view).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(CallView::new(&call, events)))
    }

    async fn calls(&self, query: &CallQuery) -> Result<Page<CallSummary>, StorageError> {
        let tenant = query.tenant.as_str();
        let (index, key_name, key) = match &query.user_id {
            Some(user) => ("ByUser", "tenantUser", format!("{tenant}#{user}")),
            None if query.qualified_only => ("QualifiedByTenant", "qualifiedTenantId", tenant.to_owned()),
            None => ("ByTenant", "tenantId", tenant.to_owned()),
        };
        let request = self
            .client
            .query()
            .table_name(&self.tables.calls)
            .index_name(index)
            .key_condition_expression("#key = :key AND startedAt BETWEEN :since AND :until")
            .expression_attribute_names("#key", key_name)
            .expression_attribute_values(":key", AttributeValue::S(key))
            .expression_attribute_values(":since", number(query.since.unwrap_or(0)))
            .expression_attribute_values(":until", number(query.until.unwrap_or(i64::MAX)))
            .scan_index_forward(false)
            .set_limit(query.limit.map(|l| l.clamp(1, 1000) as i32))
            .set_exclusive_start_key(query.cursor.as_deref().map(decode_cursor).transpose()?);
        let output = request.send().await.map_err(|e| storage(DisplayErrorContext(e)))?;
        // The indexes hold keys only, so that writes which change no key cost
        // no index writes; the calls themselves come in one batch read.
        let keys: Vec<String> = output.items().iter().filter_map(|item| item.get("callSid")?.as_s().ok().cloned()).collect();
        let mut calls = self.calls_by_sid(&keys).await?;
        // An index is eventually consistent: a call can have moved since.
        calls.retain(|c| c.tenant_id.as_deref() == Some(tenant) && (!query.qualified_only || c.qualified));
        let next_cursor = output.last_evaluated_key.map(encode_cursor).transpose()?;
        Ok(Page { items: calls.iter().map(CallSummary::from).collect(), next_cursor })
    }

    async fn is_attributed(&self, call_sid: &CallSid) -> Result<Option<bool>, StorageError> {
        let item = self.read_call(call_sid, Some("attributed")).await?;
        Ok(item.map(|item| item.get("attributed").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)))
    }
}

/// A page's last key, as an opaque string for the next request.
fn encode_cursor(key: Item) -> Result<String, StorageError> {
    let json: serde_json::Value = from_item(key)?;
    Ok(URL_SAFE_NO_PAD.encode(json.to_string()))
}

fn decode_cursor(cursor: &str) -> Result<Item, StorageError> {
    let invalid = || StorageError(format!("cursor is not a cursor this API returned: {cursor:?}"));
    let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&json).map_err(|_| invalid())?;
    serde_dynamo::to_item(json).map_err(|_| invalid())
}
