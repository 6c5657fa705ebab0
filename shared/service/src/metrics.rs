//! CloudWatch metrics through the Embedded Metric Format: one JSON line on
//! stdout per request that CloudWatch Logs turns into metrics, with no API call
//! and no extra latency.

use std::time::{SystemTime, UNIX_EPOCH};

/// The namespace the metrics appear under in CloudWatch.
pub const NAMESPACE: &str = "calltrack";

/// What one request counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// A new call was recorded (the answer webhook).
    pub calls_received: u32,
    /// A callback made its call a qualified lead.
    pub qualified_calls: u32,
    /// A request was refused for its signature.
    pub signature_rejections: u32,
    /// A callback had been recorded before.
    pub duplicates: u32,
    /// Storage failed or timed out.
    pub storage_errors: u32,
    /// A callback that storage could not take was queued.
    pub callbacks_deferred: u32,
}

impl Counts {
    fn named(&self) -> [(&'static str, u32); 6] {
        [
            ("CallsReceived", self.calls_received),
            ("QualifiedCalls", self.qualified_calls),
            ("SignatureRejections", self.signature_rejections),
            ("Duplicates", self.duplicates),
            ("StorageErrors", self.storage_errors),
            ("CallbacksDeferred", self.callbacks_deferred),
        ]
    }

    /// The EMF line for these counts under the `Function` dimension, or none
    /// when nothing was counted.
    pub fn to_emf(&self, function: &str) -> Option<String> {
        let counted: Vec<_> = self.named().into_iter().filter(|(_, n)| *n > 0).collect();
        if counted.is_empty() {
            return None;
        }
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let definitions: Vec<_> = counted.iter().map(|(name, _)| serde_json::json!({ "Name": name, "Unit": "Count" })).collect();
        let mut line = serde_json::json!({
            "_aws": {
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{ "Namespace": NAMESPACE, "Dimensions": [["Function"]], "Metrics": definitions }],
            },
            "Function": function,
        });
        for (name, n) in counted {
            line[name] = n.into();
        }
        Some(line.to_string())
    }

    /// Writes the EMF line to stdout, where Lambda sends it to CloudWatch Logs.
    pub fn emit(&self, function: &str) {
        if let Some(line) = self.to_emf(function) {
            println!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_names_only_what_was_counted() {
        assert_eq!(Counts::default().to_emf("status"), None);
        let line = Counts { duplicates: 1, storage_errors: 1, ..Counts::default() }.to_emf("status").unwrap();
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["Function"], "status");
        assert_eq!((json["Duplicates"].as_u64(), json["StorageErrors"].as_u64(), json.get("CallsReceived")), (Some(1), Some(1), None));
        let metrics = &json["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(metrics["Namespace"], "calltrack");
        assert_eq!(metrics["Dimensions"], serde_json::json!([["Function"]]));
        assert_eq!(
            metrics["Metrics"],
            serde_json::json!([{"Name": "Duplicates", "Unit": "Count"}, {"Name": "StorageErrors", "Unit": "Count"}])
        );
        assert!(json["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    }
}
