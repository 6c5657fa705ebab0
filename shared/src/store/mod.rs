//! Where calls, their events and tracking numbers are kept. Handlers receive a
//! [`Store`]; they never build queries themselves. [`DynamoStore`] keeps them
//! in the three DynamoDB tables that `template.yaml` defines.

mod dynamo;
pub mod schema;

pub use dynamo::{DynamoStore, TableNames};

use crate::call::{Call, CallEvent, CallUpdate};
use crate::error::Error;
use crate::fields::{CallSid, PhoneNumber};
use crate::tracking_number::TrackingNumber;
use std::future::Future;

/// Storage for the webhooks and the tools.
pub trait Store: Send + Sync {
    /// A tracking number's configuration, if the number is one of ours.
    fn tracking_number(&self, number: &PhoneNumber) -> impl Future<Output = Result<Option<TrackingNumber>, Error>> + Send;

    /// Adds a tracking number, or replaces its configuration.
    fn put_tracking_number(&self, number: &TrackingNumber) -> impl Future<Output = Result<(), Error>> + Send;

    /// Removes a tracking number; `false` when there was none.
    fn remove_tracking_number(&self, number: &PhoneNumber) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Every tracking number, in number order.
    fn tracking_numbers(&self) -> impl Future<Output = Result<Vec<TrackingNumber>, Error>> + Send;

    /// Applies one callback: its event is stored once and its facts are merged
    /// into the call, in one conditional write. A redelivered callback changes
    /// nothing and comes back as [`Recorded::Duplicate`].
    fn record(&self, update: &CallUpdate) -> impl Future<Output = Result<Recorded, Error>> + Send;

    /// One call with its events in the order they happened. `None` when there
    /// is no such call or it is not `scope`'s to see.
    fn call(&self, scope: &Scope, call_sid: &CallSid) -> impl Future<Output = Result<Option<CallDetail>, Error>> + Send;

    /// A tenant's or a user's calls, newest first, a page at a time.
    fn calls(&self, query: &CallQuery) -> impl Future<Output = Result<Page, Error>> + Send;
}

/// What became of a callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// It was new; here is the call as it now stands, and whether this
    /// callback is the one that made it a qualified lead.
    Applied { call: Box<Call>, newly_qualified: bool },
    /// It had been recorded before; nothing changed.
    Duplicate,
}

/// Whose calls a reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One tenant's calls only.
    Tenant(String),
    /// Every call, unattributed ones included: for operators and their tools.
    Operator,
}

impl Scope {
    fn allows(&self, call: &Call) -> bool {
        match self {
            Scope::Tenant(tenant) => call.tenant_id.as_deref() == Some(tenant.as_str()),
            Scope::Operator => true,
        }
    }
}

/// A call and its events, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct CallDetail {
    pub call: Call,
    pub events: Vec<CallEvent>,
}

/// Which calls to list. A query always names its tenant: no read crosses tenants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallQuery {
    pub tenant_id: String,
    /// Only this user's calls (within the tenant).
    pub user_id: Option<String>,
    /// Calls that started at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Calls that started at or before this time (ms since the epoch).
    pub until: Option<i64>,
    /// Only qualified calls.
    pub qualified_only: bool,
    /// At most this many calls per page.
    pub limit: Option<u32>,
    /// Where the previous page stopped.
    pub cursor: Option<String>,
}

/// One page of calls, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub calls: Vec<Call>,
    pub next_cursor: Option<String>,
}
