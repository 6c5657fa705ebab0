//! The call domain's ports ([`calltrack_core::ports`]) on DynamoDB, in the
//! four tables `template.yaml` defines. Everything about DynamoDB lives here:
//! the items (a call's version, its index keys, the events' keys), the
//! conditional writes, the queries, and (behind the `tables` feature) the
//! tables themselves.

pub mod changes;
pub mod index;
pub mod item;
mod placements;
mod store;
#[cfg(feature = "tables")]
pub mod tables;
#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

pub use store::{DynamoStore, Reindexed};

/// The four tables' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub calls: String,
    pub events: String,
    pub numbers: String,
    /// The calls' own index: listings by filter, and the counters.
    pub index: String,
}

impl TableNames {
    /// `{prefix}calls`, `{prefix}call-events`, `{prefix}tracking-numbers`, `{prefix}call-index`.
    pub fn with_prefix(prefix: &str) -> Self {
        TableNames {
            calls: format!("{prefix}calls"),
            events: format!("{prefix}call-events"),
            numbers: format!("{prefix}tracking-numbers"),
            index: format!("{prefix}call-index"),
        }
    }
}
