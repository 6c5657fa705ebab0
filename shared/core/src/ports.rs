//! What the service needs from storage, one small trait per need. The routes
//! name only the ones they use; `calltrack-dynamo` implements them all on
//! DynamoDB, and tests may implement them in memory.

use crate::call::{Applied, Call, CallUpdate, ForeignAccount};
use crate::call_index::{Counts, StatsQuery};
use crate::deferred::DeferredCallback;
use crate::disposition::DispositionChange;
use crate::endpoints::{DeliveryAttempt, WebhookEndpoint};
use crate::tracking_number::TrackingNumber;
use crate::view::{CallQuery, CallSummary, CallView, Page, Scope, TenantId};
use calltrack_twilio::fields::{CallSid, PhoneNumber};
use std::fmt;
use std::future::Future;

/// Storage failed or could not be reached. Nothing was decided about the
/// call: a webhook that meets this answers so that it is delivered again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError(pub String);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage failed: {}", self.0)
    }
}

impl std::error::Error for StorageError {}

/// What became of a callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// It was new: the call as it now stands, and what the callback changed.
    Applied(Box<Applied>),
    /// It had been recorded before; nothing changed. `owned`: the call is known
    /// to have its owner (its tenant), as storage returned it or last wrote it.
    /// A call never loses its owner, so that needs no read; `false` says only
    /// that it was not seen.
    Duplicate { owned: bool },
    /// It came from another Twilio account than its call's (a token of one
    /// account or subaccount used on another's call): refused, nothing written.
    ForeignAccount(ForeignAccount),
}

/// Records what callbacks say about calls.
pub trait RecordCalls: Send + Sync {
    /// Applies one callback: its event is kept once and its facts are merged
    /// into the call ([`crate::call::Call::apply`]), atomically. A redelivered
    /// callback changes nothing and comes back as [`Recorded::Duplicate`]; one
    /// from another account than the call's writes nothing either and comes
    /// back as [`Recorded::ForeignAccount`].
    fn record(&self, update: &CallUpdate) -> impl Future<Output = Result<Recorded, StorageError>> + Send;
}

/// Finds a tracking number's owner and call handling.
pub trait LookUpNumbers: Send + Sync {
    /// `None` when the number is not one of ours.
    fn tracking_number(&self, number: &PhoneNumber) -> impl Future<Output = Result<Option<TrackingNumber>, StorageError>> + Send;
}

/// Keeps a callback that storage could not take, to be applied when storage
/// is back (`calltrack-sqs` keeps it on an SQS queue).
pub trait DeferCallbacks: Send + Sync {
    /// Keeps `callback` durably; `Err` when it could not be kept either.
    fn defer(&self, callback: &DeferredCallback) -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// Calls as their readers see them. Every read is one key or one index
/// query: nothing here scans a table.
pub trait ReadCalls: Send + Sync {
    /// One call with its events in the order they happened. `None` when there
    /// is no such call or it is not `scope`'s to see.
    fn call(&self, scope: &Scope, call_sid: &CallSid) -> impl Future<Output = Result<Option<CallView>, StorageError>> + Send;

    /// One tenant's (or one of its users') calls, newest first, a page at a time.
    fn calls(&self, query: &CallQuery) -> impl Future<Output = Result<Page<CallSummary>, StorageError>> + Send;

    /// Whether a call has its owner: `None` when there is no such call. One
    /// attribute of one item, for a route that needs to know only that.
    fn is_attributed(&self, call_sid: &CallSid) -> impl Future<Output = Result<Option<bool>, StorageError>> + Send;
}

/// A person's verdict on a tenant's call.
pub trait DisposeCalls: Send + Sync {
    /// Applies `change` by `by` at `at` to `tenant`'s call, with what it puts
    /// in the calls' index, and gives the call as it now stands; as it stood
    /// when the change changes nothing. `None` when `tenant` has no such call.
    fn dispose(
        &self,
        tenant: &TenantId,
        call_sid: &CallSid,
        change: &DispositionChange,
        by: &str,
        at: i64,
    ) -> impl Future<Output = Result<Option<Call>, StorageError>> + Send;
}

/// A tenant's counters, kept as its calls are written.
pub trait CountCalls: Send + Sync {
    /// The counts of each group of the query's dimension over its days (for
    /// days, each day), in the groups' order. Reads counters, never calls.
    fn stats(&self, query: &StatsQuery) -> impl Future<Output = Result<Vec<(String, Counts)>, StorageError>> + Send;
}

/// The operators' side of tracking numbers: add, replace, remove, list.
pub trait ManageNumbers: Send + Sync {
    /// Adds a tracking number, or replaces its configuration.
    fn put_tracking_number(&self, number: &TrackingNumber) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Removes a tracking number; `false` when there was none.
    fn remove_tracking_number(&self, number: &PhoneNumber) -> impl Future<Output = Result<bool, StorageError>> + Send;

    /// Every tracking number, in number order. Reads them all: a tool's
    /// listing, never on a webhook's path.
    fn tracking_numbers(&self) -> impl Future<Output = Result<Vec<TrackingNumber>, StorageError>> + Send;
}

/// A tenant's side of its tracking numbers, as the API gives it: never
/// another tenant's, which is as if it did not exist.
pub trait ManageTenantNumbers: Send + Sync {
    /// `tenant`'s numbers, in number order (an index query, never a scan).
    fn numbers_of(&self, tenant: &TenantId) -> impl Future<Output = Result<Vec<TrackingNumber>, StorageError>> + Send;

    /// Replaces `number` when it is its `tenant_id`'s already; `false`, writing
    /// nothing, when that tenant has no such number (another has it, or none:
    /// numbers are added by the operator, [`ManageNumbers`]).
    fn put_number_of(&self, number: &TrackingNumber) -> impl Future<Output = Result<bool, StorageError>> + Send;

    /// Removes `tenant`'s `number`; `false` when the tenant has no such number.
    fn remove_number_of(&self, tenant: &TenantId, number: &PhoneNumber) -> impl Future<Output = Result<bool, StorageError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storage_error_says_what_failed() {
        assert_eq!(StorageError("DynamoDB timed out".into()).to_string(), "storage failed: DynamoDB timed out");
    }
}

/// Erases what is stored about one caller: an operator's command (`calltrack
/// calls erase`), never on a webhook's path, so finding a caller's calls may
/// read the whole calls table.
pub trait EraseCallers: Send + Sync {
    /// Every stored call whose customer is `caller` (its caller, or whom a
    /// call placed through the API called: [`crate::call::Call::customer`]),
    /// in every tenant and none, oldest first.
    fn calls_from(&self, caller: &PhoneNumber) -> impl Future<Output = Result<Vec<CallerCall>, StorageError>> + Send;

    /// Deletes a call's events, then the call; says how many events went. A
    /// call already gone deletes nothing and is no error.
    fn erase_call(&self, call_sid: &str) -> impl Future<Output = Result<usize, StorageError>> + Send;
}

/// A call that [`EraseCallers::calls_from`] found: its key as stored (an
/// imported item's may be no valid `CallSid`), its owner and its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerCall {
    pub call_sid: String,
    pub tenant_id: Option<String>,
    pub started_at: Option<i64>,
}

/// What became of an `Idempotency-Key` a request claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// It is new: this request is the first with it, and is to be answered.
    First,
    /// An earlier request with it, claimed at `claimed_at` (s since the
    /// epoch), has no answer yet: it is still being answered, or it never
    /// finished (its process stopped).
    InFlight { request: String, claimed_at: i64 },
    /// An earlier request with it was answered so: give the same answer.
    Answered { request: String, answer: KeptAnswer },
}

/// An answer kept under an `Idempotency-Key`, to be given again to a repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub body: String,
}

/// Requests that must act once however often they are sent (a double click on
/// "Call"): each `Idempotency-Key` of a tenant is claimed by its first request,
/// whose answer is kept for its repeats.
pub trait KeepIdempotencyKeys: Send + Sync {
    /// Claims `tenant`'s `key` for `request` (its body, to tell a repeat from
    /// another request reusing the key) until `expires_at` (s since the epoch).
    fn claim_key(
        &self,
        tenant: &TenantId,
        key: &str,
        request: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<Claim, StorageError>> + Send;

    /// Keeps the answer given to the request that claimed `key`.
    fn keep_answer(&self, tenant: &TenantId, key: &str, answer: &KeptAnswer) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Lets `key` go unanswered, for a request that did nothing (refused
    /// before acting): a repeat then acts afresh.
    fn release_key(&self, tenant: &TenantId, key: &str) -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// A tenant's rate of some action, counted across every function instance.
pub trait LimitRate: Send + Sync {
    /// Takes one of the `limit` actions `tenant` may take in the second
    /// `second` (s since the epoch); `false`, counting nothing, when all are taken.
    fn take(&self, tenant: &TenantId, second: i64, limit: u32) -> impl Future<Output = Result<bool, StorageError>> + Send;
}

/// A tenant's webhook endpoints, kept whole: `PUT /api/webhooks` replaces them.
pub trait KeepWebhookEndpoints: Send + Sync {
    /// The tenant's endpoints; none when it has set none.
    fn webhook_endpoints(&self, tenant: &TenantId) -> impl Future<Output = Result<Vec<WebhookEndpoint>, StorageError>> + Send;

    fn set_webhook_endpoints(
        &self,
        tenant: &TenantId,
        endpoints: &[WebhookEndpoint],
    ) -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// The attempts at delivering a tenant's events, kept for a while to be shown.
pub trait LogDeliveries: Send + Sync {
    fn log_delivery(&self, tenant: &TenantId, attempt: &DeliveryAttempt) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The tenant's latest attempts, newest first, at most `limit`.
    fn deliveries(&self, tenant: &TenantId, limit: u32) -> impl Future<Output = Result<Vec<DeliveryAttempt>, StorageError>> + Send;
}
