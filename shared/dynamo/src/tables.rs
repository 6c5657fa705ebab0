//! The tables as `template.yaml` defines them, read from the template itself so
//! that local tables (tests, `calltrack tables create`) are exactly the
//! deployed ones.

use crate::TableNames;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use calltrack_core::ports::StorageError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The SAM template, as built into the binary.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

/// One `AWS::DynamoDB::Table` resource's properties.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSpec {
    pub attribute_definitions: Vec<AttributeSpec>,
    pub key_schema: Vec<KeySpec>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexSpec>,
    pub time_to_live_specification: Option<TtlSpec>,
    pub billing_mode: Option<String>,
    pub stream_specification: Option<StreamSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpec {
    pub stream_view_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeSpec {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySpec {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexSpec {
    pub index_name: String,
    pub key_schema: Vec<KeySpec>,
    pub projection: ProjectionSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionSpec {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlSpec {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    resources: BTreeMap<String, Resource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    properties: serde_norway::Value,
}

/// Every table in `template`, by logical id (`CallsTable`, …).
pub fn tables(template: &str) -> Result<BTreeMap<String, TableSpec>, StorageError> {
    let invalid = |err: serde_norway::Error| StorageError(format!("template.yaml: {err}"));
    let template: Template = serde_norway::from_str(template).map_err(invalid)?;
    template
        .resources
        .into_iter()
        .filter(|(_, resource)| resource.kind == "AWS::DynamoDB::Table")
        .map(|(id, resource)| Ok((id, serde_norway::from_value(resource.properties).map_err(invalid)?)))
        .collect()
}

/// Creates the four tables under `names`, as the template defines them, and
/// turns on their TTL. Tables that exist already are left as they are, so
/// running it again is harmless. Returns the names it created.
pub async fn create(client: &Client, names: &TableNames) -> Result<Vec<String>, StorageError> {
    let specs = tables(TEMPLATE)?;
    let mut created = Vec::new();
    for (logical_id, name) in [
        ("CallsTable", &names.calls),
        ("CallEventsTable", &names.events),
        ("TrackingNumbersTable", &names.numbers),
        ("CallIndexTable", &names.index),
    ] {
        let spec = specs.get(logical_id).ok_or_else(|| StorageError(format!("template.yaml has no {logical_id}")))?;
        if create_table(client, name, spec).await? {
            created.push(name.clone());
        }
    }
    Ok(created)
}

async fn create_table(client: &Client, name: &str, spec: &TableSpec) -> Result<bool, StorageError> {
    let storage = |err: &dyn std::fmt::Display| StorageError(format!("creating table {name}: {err}"));
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(spec.billing_mode.as_deref().unwrap_or("PAY_PER_REQUEST")))
        .set_key_schema(Some(key_schema(&spec.key_schema).map_err(|e| storage(&e))?));
    for attribute in &spec.attribute_definitions {
        let definition = AttributeDefinition::builder()
            .attribute_name(&attribute.attribute_name)
            .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
            .build()
            .map_err(|e| storage(&e))?;
        request = request.attribute_definitions(definition);
    }
    for index in &spec.global_secondary_indexes {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(index.projection.projection_type.as_str()))
            .set_non_key_attributes(Some(index.projection.non_key_attributes.clone()).filter(|a| !a.is_empty()))
            .build();
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(&index.index_name)
            .set_key_schema(Some(key_schema(&index.key_schema).map_err(|e| storage(&e))?))
            .projection(projection)
            .build()
            .map_err(|e| storage(&e))?;
        request = request.global_secondary_indexes(gsi);
    }
    let stream = spec.stream_specification.as_ref().map(|stream| {
        StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::from(stream.stream_view_type.as_str())).build()
    });
    let stream = stream.transpose().map_err(|e| storage(&e))?;
    match request.set_stream_specification(stream.clone()).send().await {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
            // A table made before it had a stream (an earlier `make demo`) gets one.
            if let Some(stream) = stream {
                let described = client.describe_table().table_name(name).send().await;
                let has_stream = described.ok().and_then(|d| d.table?.stream_specification).is_some_and(|s| s.stream_enabled);
                if !has_stream {
                    client
                        .update_table()
                        .table_name(name)
                        .stream_specification(stream)
                        .send()
                        .await
                        .map_err(|e| storage(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
                }
            }
            return Ok(false);
        }
        Err(err) => return Err(storage(&aws_sdk_dynamodb::error::DisplayErrorContext(err))),
    }
    if let Some(ttl) = spec.time_to_live_specification.as_ref().filter(|ttl| ttl.enabled) {
        let ttl = TimeToLiveSpecification::builder().attribute_name(&ttl.attribute_name).enabled(true).build().map_err(|e| storage(&e))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| storage(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok(true)
}

fn key_schema(keys: &[KeySpec]) -> Result<Vec<KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    keys.iter()
        .map(|key| KeySchemaElement::builder().attribute_name(&key.attribute_name).key_type(KeyType::from(key.key_type.as_str())).build())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_defines_the_four_tables() {
        let tables = tables(TEMPLATE).unwrap();
        assert_eq!(tables.keys().collect::<Vec<_>>(), ["CallEventsTable", "CallIndexTable", "CallsTable", "TrackingNumbersTable"]);
        let index: Vec<_> = tables["CallIndexTable"].key_schema.iter().map(|k| (k.attribute_name.as_str(), k.key_type.as_str())).collect();
        assert_eq!(index, [("pk", "HASH"), ("sk", "RANGE")]);
        let calls = &tables["CallsTable"];
        assert_eq!(calls.key_schema, [KeySpec { attribute_name: "callSid".into(), key_type: "HASH".into() }]);
        let indexes: Vec<_> = calls.global_secondary_indexes.iter().map(|i| i.index_name.as_str()).collect();
        assert_eq!(indexes, ["ByUser", "QualifiedByTenant"]);
        let events = &tables["CallEventsTable"];
        assert_eq!(events.key_schema.iter().map(|k| k.attribute_name.as_str()).collect::<Vec<_>>(), ["callSid", "eventKey"]);
        assert_eq!(events.time_to_live_specification, Some(TtlSpec { attribute_name: "expiresAt".into(), enabled: true }));
        assert_eq!(tables["TrackingNumbersTable"].key_schema[0].attribute_name, "phoneNumber");
        assert!(tables.values().all(|t| t.billing_mode.as_deref() == Some("PAY_PER_REQUEST")), "on-demand");
    }
}
