//! Applies the callbacks that met a storage outage ([`crate::defer`]) once
//! storage is back: the replay Lambda on the queue's event source, or
//! `calltrack serve`'s own loop ([`poll`]). Each is applied the way its route
//! would have, with the time it came in, through the same idempotent merge: a
//! callback applied twice, or after later ones, changes nothing more.
//!
//! A message that cannot be applied yet waits before its next try
//! ([`calltrack_sqs::backoff`]); after the queue's `maxReceiveCount` tries SQS
//! moves it to the dead-letter queue, whose alarm tells the operator. The
//! queue's consumer (`calltrack-outbox`'s `work`) hands these here.

use crate::context::Context;
use crate::defer::NoQueue;
use crate::numbers::NumberCache;
use crate::reply::Outcome;
use crate::route::Route;
use crate::routes;
use crate::settings::Settings;
use calltrack_core::call::CallUpdate;
use calltrack_core::crm::CrmLinks;
use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{LookUpNumbers, ReadCalls, RecordCalls, Recorded, StorageError};
use calltrack_sqs::{Received, SqsQueue, backoff};
use calltrack_twilio::voice::{CallWebhook, DialReading, IncomingCall, RecordingWebhook};
use lambda_http::tracing;
use std::fmt;

/// Why a queued callback was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// Storage still fails: try again later.
    Storage(StorageError),
    /// The message is not a callback this version can apply (written by
    /// another version, or by hand). It will end in the dead-letter queue.
    Unreadable(String),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Storage(err) => err.fmt(f),
            ReplayError::Unreadable(reason) => write!(f, "unreadable queued callback: {reason}"),
        }
    }
}

impl From<StorageError> for ReplayError {
    fn from(err: StorageError) -> Self {
        ReplayError::Storage(err)
    }
}

fn unreadable(err: impl fmt::Display) -> ReplayError {
    ReplayError::Unreadable(err.to_string())
}

/// Applies one queued callback, as its route would have when it came in. One
/// from another account than its call's is refused as its route would refuse
/// it, logged, and done with: trying again would change nothing.
pub async fn apply<S: RecordCalls + LookUpNumbers + ReadCalls>(
    store: &S,
    settings: &Settings,
    callback: &DeferredCallback,
) -> Result<Outcome, ReplayError> {
    let numbers = NumberCache::default();
    let cx = Context { store, settings, numbers: &numbers, callback_base: "", now: callback.received_at, queue: &NoQueue };
    let route = Route::find(Route::ALL, &callback.route).ok_or_else(|| unreadable(format!("no route {:?}", callback.route)))?;
    let params = callback.params.clone();
    let recorded = match route {
        Route::Status => {
            let crm = CrmLinks::from_url(&callback.url).map_err(unreadable)?;
            let customer = routes::status::customer_of(&callback.url).map_err(unreadable)?;
            routes::status::store(&cx, &CallWebhook::parse(params).map_err(unreadable)?, &crm, customer.as_ref()).await?
        }
        Route::Recording => routes::recording::store(&cx, &RecordingWebhook::parse(params).map_err(unreadable)?).await?,
        Route::DialResult => {
            let dial = DialReading::read(params).dial.ok_or_else(|| unreadable("no dial outcome to store"))?;
            store.record(&CallUpdate::dial(&dial, cx.now)).await?
        }
        Route::Answer => {
            let (crm, _) = CrmLinks::read_url(&callback.url);
            let incoming = IncomingCall::read(params);
            let call = incoming.call.as_ref().ok_or_else(|| unreadable("no call to store"))?;
            // Read now, so that the call gets its owner (the route had storage
            // down); a number bound to another account gives none (`CallUpdate::answer`).
            let number = match &incoming.tracking_number {
                Some(number) => store.tracking_number(number).await?,
                None => None,
            };
            let forwarded = callback.forwarded.unwrap_or(false);
            store.record(&routes::answer::call_update(&incoming, call, &crm, number.as_ref(), forwarded, cx.now)).await?
        }
        Route::Whisper | Route::Screen | Route::Connect | Route::Goodbye => {
            return Err(unreadable(format!("{} stores nothing", route.path())));
        }
    };
    Ok(match recorded {
        Recorded::Applied(_) => Outcome::Recorded,
        Recorded::Duplicate { .. } => Outcome::Duplicate,
        // Done: another try would be refused again.
        Recorded::ForeignAccount(foreign) => {
            routes::warn_foreign(&foreign);
            Outcome::ForeignAccount
        }
    })
}

/// Applies a batch of messages from the queue. Returns the ids of those that
/// failed, each already set to come back after its backoff; the others are
/// done (a Lambda's event source deletes them; `calltrack serve`'s loop deletes them itself).
/// Each gets the storage deadline; once one meets a storage failure the rest
/// are not tried but set to come back too, so that a batch ends in about one
/// deadline, well inside the function's timeout, and storage is not pressed
/// while it is down.
pub async fn apply_batch<S: RecordCalls + LookUpNumbers + ReadCalls>(
    store: &S,
    settings: &Settings,
    queue: &SqsQueue,
    messages: &[Received],
) -> Vec<String> {
    let mut failed = Vec::new();
    let mut storage_down: Option<ReplayError> = None;
    for message in messages {
        let applied = match (&storage_down, serde_json::from_str::<DeferredCallback>(&message.body)) {
            (Some(down), _) => Err(down.clone()),
            (None, Ok(callback)) => {
                let deadline = settings.storage_deadline;
                tokio::time::timeout(deadline, apply(store, settings, &callback))
                    .await
                    .unwrap_or_else(|_| Err(ReplayError::Storage(StorageError(format!("no answer within {deadline:?}")))))
            }
            (None, Err(err)) => Err(unreadable(err)),
        };
        match applied {
            Ok(outcome) => tracing::info!(message_id = message.message_id, outcome = outcome.as_str(), "queued callback applied"),
            Err(err) => {
                if matches!(err, ReplayError::Storage(_)) {
                    storage_down.get_or_insert(err.clone());
                }
                let wait = backoff(settings.replay_backoff, message.receive_count);
                tracing::warn!(message_id = message.message_id, tries = message.receive_count, retry_in_s = wait.as_secs(), reason = %err, "queued callback not applied");
                if let Err(err) = queue.retry_later(&message.receipt_handle, wait).await {
                    tracing::warn!(message_id = message.message_id, reason = %err, "could not set the backoff; the queue's visibility timeout applies");
                }
                failed.push(message.message_id.clone());
            }
        }
    }
    failed
}
