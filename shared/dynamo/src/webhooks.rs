//! A tenant's webhook endpoints ([`KeepWebhookEndpoints`]) and the attempts at
//! delivering to them ([`LogDeliveries`]), in the calls' index table:
//! - the endpoints: `pk` = `W#{tenant}`, `sk` = `endpoints`, with `endpoints`
//!   (a list of maps), one item written whole;
//! - an attempt: `pk` = `D#{tenant}`, `sk` = `{at:013}#{eventId}#{endpointId}#{attempt:03}`,
//!   so that a query reads a tenant's newest first, with `expiresAt` for TTL.
//!
//! Their prefixes are no other item's (see [`crate::placements`]), and a tenant
//! id holds no `#`, so no two tenants' items can meet.

use crate::DynamoStore;
use crate::item::{Item, from_item, number, storage, to_item};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::endpoints::{DeliveryAttempt, WebhookEndpoint};
use calltrack_core::ports::{KeepWebhookEndpoints, LogDeliveries, StorageError};
use calltrack_core::view::TenantId;
use serde::{Deserialize, Serialize};

/// How long an attempt is kept to be shown: a week covers the longest retries (27 h) with room.
const DELIVERY_RETENTION_S: i64 = 7 * 86_400;

fn key(pk: String, sk: String) -> Item {
    Item::from([("pk".to_owned(), AttributeValue::S(pk)), ("sk".to_owned(), AttributeValue::S(sk))])
}

fn endpoints_key(tenant: &TenantId) -> Item {
    key(format!("W#{tenant}"), "endpoints".to_owned())
}

#[derive(Serialize, Deserialize)]
struct Endpoints {
    endpoints: Vec<WebhookEndpoint>,
}

/// Writes `item` whole into the index table.
async fn put(store: &DynamoStore, item: Item) -> Result<(), StorageError> {
    store
        .client()
        .put_item()
        .table_name(&store.tables().index)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| storage(DisplayErrorContext(e)))?;
    Ok(())
}

impl KeepWebhookEndpoints for DynamoStore {
    async fn webhook_endpoints(&self, tenant: &TenantId) -> Result<Vec<WebhookEndpoint>, StorageError> {
        let read = self
            .client()
            .get_item()
            .table_name(&self.tables().index)
            .set_key(Some(endpoints_key(tenant)))
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        match read.item {
            Some(item) => Ok(from_item::<Endpoints>(item)?.endpoints),
            None => Ok(Vec::new()),
        }
    }

    async fn set_webhook_endpoints(&self, tenant: &TenantId, endpoints: &[WebhookEndpoint]) -> Result<(), StorageError> {
        let mut item = to_item(&Endpoints { endpoints: endpoints.to_vec() })?;
        item.extend(endpoints_key(tenant));
        put(self, item).await
    }
}

impl LogDeliveries for DynamoStore {
    async fn log_delivery(&self, tenant: &TenantId, attempt: &DeliveryAttempt) -> Result<(), StorageError> {
        let mut item = to_item(attempt)?;
        let sk = format!("{:013}#{}#{}#{:03}", attempt.at, attempt.event_id, attempt.endpoint_id, attempt.attempt);
        item.extend(key(format!("D#{tenant}"), sk));
        item.insert("expiresAt".to_owned(), number(attempt.at / 1000 + DELIVERY_RETENTION_S));
        put(self, item).await
    }

    async fn deliveries(&self, tenant: &TenantId, limit: u32) -> Result<Vec<DeliveryAttempt>, StorageError> {
        let read = self
            .client()
            .query()
            .table_name(&self.tables().index)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("D#{tenant}")))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(|e| storage(DisplayErrorContext(e)))?;
        read.items.unwrap_or_default().into_iter().map(from_item).collect()
    }
}
