//! The [`Store`] on DynamoDB.
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

use super::{CallDetail, CallQuery, Page, Recorded, Scope, Store};
use crate::call::{Call, CallEvent, CallUpdate};
use crate::error::Error;
use crate::fields::{CallSid, PhoneNumber};
use crate::tracking_number::TrackingNumber;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

type Item = HashMap<String, AttributeValue>;

/// How often a write is tried before storage counts as failed: each failed try
/// means another writer changed the call meanwhile, so this bounds contention,
/// not errors.
const MAX_ATTEMPTS: u32 = 64;
/// Calls remembered between writes; past this the memory starts over.
const REMEMBERED_CALLS: usize = 4096;

/// The three tables' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub calls: String,
    pub events: String,
    pub numbers: String,
}

impl TableNames {
    /// `{prefix}calls`, `{prefix}call-events`, `{prefix}tracking-numbers`.
    pub fn with_prefix(prefix: &str) -> Self {
        TableNames { calls: format!("{prefix}calls"), events: format!("{prefix}call-events"), numbers: format!("{prefix}tracking-numbers") }
    }
}

/// Calls, events and tracking numbers in DynamoDB.
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
    /// How long an event's raw parameters are kept before TTL deletes them.
    event_retention: Duration,
    /// The last version of each call this process wrote or saw.
    known: Mutex<HashMap<CallSid, Call>>,
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

    /// Write capacity units consumed by [`Store::record`] so far, as DynamoDB
    /// reported them (`ReturnConsumedCapacity`), indexes included.
    pub fn write_capacity_units(&self) -> f64 {
        self.write_milli_units.load(Ordering::Relaxed) as f64 / 1000.0
    }

    fn remembered(&self, call_sid: &CallSid) -> Option<Call> {
        self.known.lock().expect("not poisoned").get(call_sid).cloned()
    }

    fn remember(&self, call: &Call) {
        let mut known = self.known.lock().expect("not poisoned");
        if known.len() >= REMEMBERED_CALLS {
            known.clear();
        }
        known.insert(call.call_sid, call.clone());
    }

    fn event_item(&self, event: &CallEvent) -> Result<Item, Error> {
        let mut item = to_item(event)?;
        let expires_at = event.received_at / 1000 + self.event_retention.as_secs() as i64;
        item.insert("expiresAt".into(), AttributeValue::N(expires_at.to_string()));
        Ok(item)
    }

    /// One attempt: the event if new, and the call merged from `expected`.
    async fn try_record(&self, update: &CallUpdate, expected: Option<&Call>) -> Result<Attempt, Error> {
        let mut merged = match expected {
            Some(old) => old.clone().merge(update.call.clone()),
            None => update.call.clone(),
        };
        merged.version = expected.map_or(0, |old| old.version) + 1;

        let event = Put::builder()
            .table_name(&self.tables.events)
            .set_item(Some(self.event_item(&update.event)?))
            .condition_expression("attribute_not_exists(callSid)")
            .build()
            .map_err(storage)?;
        let call = Put::builder()
            .table_name(&self.tables.calls)
            .set_item(Some(to_item(&merged)?))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let call = match expected {
            Some(old) => call.condition_expression("version = :expected").expression_attribute_values(":expected", number(old.version)),
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
                Ok(Attempt::Written(merged, expected.is_some_and(|old| old.qualified)))
            }
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => {
                    let reasons = canceled.cancellation_reasons();
                    let failed = |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
                    let current = reasons.get(1).and_then(|r| r.item()).map(|item| from_item::<Call>(item.clone())).transpose()?;
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

    /// Every call, newest first, unattributed ones included: for operators'
    /// tools on small (local) tables, as it reads the whole table.
    pub async fn all_calls(&self) -> Result<Vec<Call>, Error> {
        let mut calls: Vec<Call> = self.scan_all(&self.tables.calls).await?;
        calls.sort_by_key(|c| std::cmp::Reverse(c.started_at));
        Ok(calls)
    }

    /// Every item of `table`, page after page.
    async fn scan_all<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, Error> {
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
    async fn calls_by_sid(&self, sids: &[String]) -> Result<Vec<Call>, Error> {
        let mut found: HashMap<String, Call> = HashMap::new();
        for chunk in sids.chunks(100) {
            let keys = chunk.iter().map(|sid| HashMap::from([("callSid".to_owned(), AttributeValue::S(sid.clone()))])).collect();
            let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(keys)).build().map_err(storage)?);
            for attempt in 0.. {
                let Some(request) = pending.take() else { break };
                if attempt >= MAX_ATTEMPTS {
                    return Err(Error::Storage("calls table: batch read kept coming back unprocessed".into()));
                }
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.tables.calls, request)
                    .send()
                    .await
                    .map_err(|e| storage(DisplayErrorContext(e)))?;
                for item in output.responses.unwrap_or_default().remove(&self.tables.calls).unwrap_or_default() {
                    let call: Call = from_item(item)?;
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

enum Attempt {
    /// Written; and whether the call was qualified before.
    Written(Call, bool),
    /// The event exists: a redelivery. Carries the call if DynamoDB returned it.
    Duplicate(Option<Call>),
    /// The call is not the version merged from; here it is as it stands (none: absent).
    Stale(Option<Call>),
    /// Another transaction held the items; try again shortly.
    Contended,
}

impl Store for DynamoStore {
    async fn tracking_number(&self, number: &PhoneNumber) -> Result<Option<TrackingNumber>, Error> {
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

    async fn put_tracking_number(&self, number: &TrackingNumber) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.tables.numbers)
            .set_item(Some(to_item(number)?))
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn remove_tracking_number(&self, number: &PhoneNumber) -> Result<bool, Error> {
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

    async fn tracking_numbers(&self) -> Result<Vec<TrackingNumber>, Error> {
        let mut numbers: Vec<TrackingNumber> = self.scan_all(&self.tables.numbers).await?;
        numbers.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        Ok(numbers)
    }

    async fn record(&self, update: &CallUpdate) -> Result<Recorded, Error> {
        let call_sid = update.call.call_sid;
        let mut expected = self.remembered(&call_sid);
        for attempt in 0..MAX_ATTEMPTS {
            match self.try_record(update, expected.as_ref()).await? {
                Attempt::Written(call, was_qualified) => {
                    self.remember(&call);
                    let newly_qualified = call.qualified && !was_qualified;
                    return Ok(Recorded::Applied { call: Box::new(call), newly_qualified });
                }
                Attempt::Duplicate(current) => {
                    current.inspect(|call| self.remember(call));
                    return Ok(Recorded::Duplicate);
                }
                Attempt::Stale(current) => expected = current,
                Attempt::Contended => self.back_off(attempt).await,
            }
        }
        Err(Error::Storage(format!("call {call_sid} is contended: gave up after {MAX_ATTEMPTS} attempts")))
    }

    async fn call(&self, scope: &Scope, call_sid: &CallSid) -> Result<Option<CallDetail>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.calls)
            .key("callSid", AttributeValue::S(call_sid.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        let Some(call) = output.item.map(from_item::<Call>).transpose()? else { return Ok(None) };
        if !scope.allows(&call) {
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
        let mut events = items.into_iter().map(from_item::<CallEvent>).collect::<Result<Vec<_>, _>>()?;
        events.sort_by(|a, b| (a.happened_at(), a.sequence_number, &a.event_key).cmp(&(b.happened_at(), b.sequence_number, &b.event_key)));
        Ok(Some(CallDetail { call, events }))
    }

    async fn calls(&self, query: &CallQuery) -> Result<Page, Error> {
        let (index, key_name, key) = match &query.user_id {
            Some(user) => ("ByUser", "tenantUser", format!("{}#{user}", query.tenant_id)),
            None if query.qualified_only => ("QualifiedByTenant", "qualifiedTenantId", query.tenant_id.clone()),
            None => ("ByTenant", "tenantId", query.tenant_id.clone()),
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
        calls.retain(|c| c.tenant_id.as_deref() == Some(query.tenant_id.as_str()) && (!query.qualified_only || c.qualified));
        let next_cursor = output.last_evaluated_key.map(encode_cursor).transpose()?;
        Ok(Page { calls, next_cursor })
    }
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn storage(err: impl std::fmt::Display) -> Error {
    Error::Storage(err.to_string())
}

fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, Error> {
    serde_dynamo::to_item(value).map_err(storage)
}

fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, Error> {
    serde_dynamo::from_item(item).map_err(storage)
}

/// A page's last key, as an opaque string for the next request.
fn encode_cursor(key: Item) -> Result<String, Error> {
    let json: serde_json::Value = from_item(key)?;
    Ok(URL_SAFE_NO_PAD.encode(json.to_string()))
}

fn decode_cursor(cursor: &str) -> Result<Item, Error> {
    let invalid = || Error::invalid("cursor", format!("is not a cursor this API returned: {cursor:?}"));
    let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&json).map_err(|_| invalid())?;
    serde_dynamo::to_item(json).map_err(|_| invalid())
}
