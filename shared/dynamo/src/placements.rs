//! What placing calls needs beside the calls: `Idempotency-Key`s
//! ([`KeepIdempotencyKeys`]) and per-second rate counters ([`LimitRate`]),
//! both in the calls' index table, each in one request:
//! - a key: `pk` = `K#{tenant}#{key}`, `sk` = `key`, with `request` (S) and
//!   `claimedAt` (N), and once answered `status` (N) and `answer` (S);
//! - a rate: `pk` = `R#{tenant}#{second}`, `sk` = `rate`, with `taken` (N).
//!
//! Both carry `expiresAt` (N, s since the epoch), for TTL to sweep them. Their
//! prefixes are no listing's (`L#`) or counter's (`C#`), and a tenant id holds
//! no `#`, so no two tenants' or kinds' keys can meet (see [`crate::index`]).

use crate::DynamoStore;
use crate::item::{Item, number, storage};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use calltrack_core::ports::{Claim, KeepIdempotencyKeys, KeptAnswer, LimitRate, StorageError};
use calltrack_core::view::TenantId;

/// When TTL may delete an item (s since the epoch). DynamoDB sweeps late, so
/// an item past it is treated as gone.
const EXPIRES_AT: &str = "expiresAt";
/// The body of the request that claimed a key.
const REQUEST: &str = "request";
/// When it claimed it (s since the epoch).
const CLAIMED_AT: &str = "claimedAt";
/// The status of the answer kept under a key.
const STATUS: &str = "status";
/// The body of the answer kept under a key.
const ANSWER: &str = "answer";
/// How many actions a rate item's second has taken.
const TAKEN: &str = "taken";
/// How long a rate item outlives its second: long enough for any clock skew
/// between function instances, short enough to keep the table small.
const RATE_RETENTION_S: i64 = 60;
/// DynamoDB refuses a partition key over 2048 bytes.
const MAX_PK_BYTES: usize = 2048;

/// An `Idempotency-Key` item's key. A key too long for DynamoDB is an error
/// here, not cut: two keys cut alike would share one answer.
fn idempotency_key(tenant: &TenantId, key: &str) -> Result<Item, StorageError> {
    let pk = format!("K#{tenant}#{key}");
    if pk.len() > MAX_PK_BYTES {
        return Err(StorageError(format!("an Idempotency-Key of {} bytes is longer than DynamoDB keys hold", key.len())));
    }
    Ok(Item::from([("pk".to_owned(), AttributeValue::S(pk)), ("sk".to_owned(), AttributeValue::S("key".to_owned()))]))
}

/// A rate item's key: one partition per tenant and second, so that a busy
/// tenant's seconds spread over partitions and nothing needs resetting.
fn rate_key(tenant: &TenantId, second: i64) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(format!("R#{tenant}#{second}"))),
        ("sk".to_owned(), AttributeValue::S("rate".to_owned())),
    ])
}

/// Now, in s since the epoch: what an item's `expiresAt` is compared with.
fn now_s() -> i64 {
    crate::store::now_ms() / 1000
}

/// The claim an existing key item stands for: answered once it has a status.
fn earlier_claim(item: &Item) -> Result<Claim, StorageError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let request = text(REQUEST).ok_or_else(|| StorageError(format!("an Idempotency-Key item without {REQUEST}")))?;
    let claimed_at = item.get(CLAIMED_AT).and_then(|n| n.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
    let Some(status) = item.get(STATUS) else { return Ok(Claim::InFlight { request, claimed_at }) };
    let status = status
        .as_n()
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StorageError(format!("an Idempotency-Key item whose {STATUS} is no HTTP status: {status:?}")))?;
    let body = text(ANSWER).ok_or_else(|| StorageError(format!("an Idempotency-Key item with a {STATUS} but no {ANSWER}")))?;
    Ok(Claim::Answered { request, answer: KeptAnswer { status, body } })
}

impl KeepIdempotencyKeys for DynamoStore {
    /// One conditional put. When the key is taken, the failed condition
    /// returns the item as it stands (`ALL_OLD`): no second read, and nothing
    /// that could have changed in between.
    async fn claim_key(&self, tenant: &TenantId, key: &str, request: &str, expires_at: i64) -> Result<Claim, StorageError> {
        let mut item = idempotency_key(tenant, key)?;
        item.insert(REQUEST.to_owned(), AttributeValue::S(request.to_owned()));
        item.insert(CLAIMED_AT.to_owned(), number(now_s()));
        item.insert(EXPIRES_AT.to_owned(), number(expires_at));
        let put = self
            .client()
            .put_item()
            .table_name(&self.tables().index)
            .set_item(Some(item))
            // An expired item TTL has not swept yet is as good as gone.
            .condition_expression("attribute_not_exists(pk) OR #expiresAt < :now")
            .expression_attribute_names("#expiresAt", EXPIRES_AT)
            .expression_attribute_values(":now", number(now_s()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::First),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(taken)) => {
                    earlier_claim(taken.item().ok_or_else(|| StorageError("a taken Idempotency-Key came back without its item".into()))?)
                }
                _ => Err(storage(DisplayErrorContext(err))),
            },
        }
    }

    /// Only onto the claim's item: an answer alone would be an item without
    /// its request, and (without `expiresAt`) one TTL never sweeps. A claim
    /// gone meanwhile (expired, or released) keeps nothing, and is no error:
    /// the request has acted, and failing it now would not undo that.
    async fn keep_answer(&self, tenant: &TenantId, key: &str, answer: &KeptAnswer) -> Result<(), StorageError> {
        let updated = self
            .client()
            .update_item()
            .table_name(&self.tables().index)
            .set_key(Some(idempotency_key(tenant, key)?))
            .update_expression("SET #status = :status, #answer = :answer")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#answer", ANSWER)
            .expression_attribute_values(":status", number(answer.status))
            .expression_attribute_values(":answer", AttributeValue::S(answer.body.clone()))
            .send()
            .await;
        match updated {
            Err(err) if !err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(storage(DisplayErrorContext(err)))
            }
            _ => Ok(()),
        }
    }

    async fn release_key(&self, tenant: &TenantId, key: &str) -> Result<(), StorageError> {
        self.client()
            .delete_item()
            .table_name(&self.tables().index)
            .set_key(Some(idempotency_key(tenant, key)?))
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        Ok(())
    }
}

impl LimitRate for DynamoStore {
    /// One conditional `ADD`: DynamoDB counts atomically across every
    /// instance, and a full second's condition fails, counting nothing.
    async fn take(&self, tenant: &TenantId, second: i64, limit: u32) -> Result<bool, StorageError> {
        if limit == 0 {
            return Ok(false);
        }
        let updated = self
            .client()
            .update_item()
            .table_name(&self.tables().index)
            .set_key(Some(rate_key(tenant, second)))
            .update_expression("ADD #taken :one SET #expiresAt = :expiresAt")
            .condition_expression("attribute_not_exists(#taken) OR #taken < :limit")
            .expression_attribute_names("#taken", TAKEN)
            .expression_attribute_names("#expiresAt", EXPIRES_AT)
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":limit", number(limit))
            .expression_attribute_values(":expiresAt", number(second.saturating_add(RATE_RETENTION_S)))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(err) => Err(storage(DisplayErrorContext(err))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calltrack_twilio::fields::Field;

    #[test]
    fn a_key_too_long_for_dynamodb_is_refused_never_cut() {
        let tenant = TenantId::parse("tenant", &"t".repeat(128)).unwrap();
        assert!(idempotency_key(&tenant, &"é".repeat(255)).is_ok(), "the longest key the API takes fits");
        assert!(idempotency_key(&tenant, &"k".repeat(MAX_PK_BYTES)).is_err());
    }

    #[test]
    fn a_key_item_reads_as_the_claim_it_stands_for() {
        let mut item = Item::from([(REQUEST.to_owned(), AttributeValue::S("{}".into()))]);
        assert_eq!(earlier_claim(&item), Ok(Claim::InFlight { request: "{}".into(), claimed_at: 0 }), "claimed before claimedAt was kept");
        item.insert(CLAIMED_AT.to_owned(), number(1_800_000_000));
        assert_eq!(earlier_claim(&item), Ok(Claim::InFlight { request: "{}".into(), claimed_at: 1_800_000_000 }));
        item.insert(STATUS.to_owned(), number(201));
        item.insert(ANSWER.to_owned(), AttributeValue::S("{\"callSid\":\"CA1\"}".into()));
        let answer = KeptAnswer { status: 201, body: "{\"callSid\":\"CA1\"}".into() };
        assert_eq!(earlier_claim(&item), Ok(Claim::Answered { request: "{}".into(), answer }));
        item.insert(STATUS.to_owned(), number(70_000));
        assert!(earlier_claim(&item).is_err(), "no HTTP status");
    }
}
