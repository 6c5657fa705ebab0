//! One file per route: what each webhook does once its signature is checked.
//! Each reads as parse, decide, store, respond; [`crate::app::App`] calls them
//! with a [`Context`](crate::context::Context).

pub mod answer;
pub mod connect;
pub mod dial_result;
pub mod goodbye;
pub mod recording;
pub mod screen;
pub mod status;
pub mod whisper;

use crate::context::Context;
use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, no_content, plain};
use calltrack_core::call::ForeignAccount;
use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{Recorded, StorageError};
use calltrack_twilio::fields::CallSid;
use lambda_http::http::StatusCode;
use lambda_http::tracing;

/// What a route logs and counts about its write: a write that storage could
/// not take is queued.
async fn recorded_or_deferred<S>(
    cx: &Context<'_, S>,
    recorded: Result<Recorded, StorageError>,
    callback: impl FnOnce() -> DeferredCallback,
) -> (Outcome, Counts) {
    match recorded {
        Ok(recorded) => stored_outcome(&recorded),
        Err(err) => deferred_outcome(defer(cx, &callback(), &err).await),
    }
}

/// [`recorded_or_deferred`] for a route whose caller waits on the line: the
/// queue gets the answer budget too. Past it the caller is answered, and the
/// call's facts come from its later callbacks (see `status::claim_owner`).
async fn recorded_or_deferred_for_caller<S>(
    cx: &Context<'_, S>,
    recorded: Result<Recorded, StorageError>,
    callback: impl FnOnce() -> DeferredCallback,
) -> (Outcome, Counts) {
    let budget = cx.settings.answer_storage_budget;
    tokio::time::timeout(budget, recorded_or_deferred(cx, recorded, callback)).await.unwrap_or_else(|_| {
        tracing::error!(budget = ?budget, "the callback queue did not answer within the caller's budget; the caller is answered anyway");
        deferred_outcome(Deferral::Failed)
    })
}

fn deferred_outcome(deferral: Deferral) -> (Outcome, Counts) {
    match deferral {
        Deferral::Queued => (Outcome::Deferred, Counts { storage_errors: 1, callbacks_deferred: 1, ..Counts::default() }),
        Deferral::Failed => (Outcome::StorageFailed, Counts { storage_errors: 1, ..Counts::default() }),
    }
}

fn stored_outcome(recorded: &Recorded) -> (Outcome, Counts) {
    match recorded {
        Recorded::Applied(applied) => {
            (Outcome::Recorded, Counts { qualified_calls: u32::from(applied.changes.newly_qualified), ..Counts::default() })
        }
        Recorded::Duplicate { .. } => (Outcome::Duplicate, Counts { duplicates: 1, ..Counts::default() }),
        Recorded::ForeignAccount(foreign) => {
            warn_foreign(foreign);
            // Counted with the signatures refused: a token used beyond its account.
            (Outcome::ForeignAccount, Counts { signature_rejections: 1, ..Counts::default() })
        }
    }
}

/// Logs a callback refused for its account, naming the call and both accounts.
pub(crate) fn warn_foreign(foreign: &ForeignAccount) {
    tracing::warn!(
        call_sid = foreign.call_sid.as_str(),
        call_account = foreign.call_account.as_str(),
        callback_account = foreign.callback_account.as_str(),
        "callback from another account than its call's refused; nothing written"
    );
}

/// The answer of a callback route once its write is done: `204`. When storage
/// failed, the callback goes to the queue and is answered `204` too; `503`
/// only when the queue failed as well, so that Twilio delivers it again. A
/// callback from another account than its call's is answered `403`, empty, as
/// a refused signature is: it was signed by a token that is not the call's.
async fn stored_or_deferred<S>(
    cx: &Context<'_, S>,
    recorded: Result<Recorded, StorageError>,
    call_sid: CallSid,
    callback: impl FnOnce() -> DeferredCallback,
) -> Handled {
    let (outcome, counts) = recorded_or_deferred(cx, recorded, callback).await;
    let response = match outcome {
        Outcome::StorageFailed => plain(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable; retry later"),
        Outcome::ForeignAccount => plain(StatusCode::FORBIDDEN, ""),
        _ => no_content(),
    };
    Handled { response, call_sid: Some(call_sid), outcome, counts }
}

/// What became of a callback that storage could not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deferral {
    /// It is on the queue, and will be applied when storage is back.
    Queued,
    /// The queue failed too: only Twilio's retry can bring it back.
    Failed,
}

/// Puts a callback that storage could not take on the queue, and logs why.
pub(crate) async fn defer<S>(cx: &Context<'_, S>, callback: &DeferredCallback, storage: &StorageError) -> Deferral {
    let call_sid = callback.params.get("CallSid").unwrap_or_default();
    match cx.queue.defer(callback).await {
        Ok(()) => {
            tracing::warn!(call_sid, reason = %storage, "storage failed; the callback is queued and will be applied when storage is back");
            Deferral::Queued
        }
        Err(queue) => {
            tracing::error!(call_sid, reason = %storage, queue = %queue, "storage failed and so did the queue; only a redelivery can bring this callback back");
            Deferral::Failed
        }
    }
}

/// `work` on storage within the settings' deadline: past it, storage failed.
async fn within_deadline<S, T>(cx: &Context<'_, S>, work: impl Future<Output = Result<T, StorageError>>) -> Result<T, StorageError> {
    let deadline = cx.settings.storage_deadline;
    tokio::time::timeout(deadline, work).await.unwrap_or_else(|_| Err(StorageError(format!("no answer within {deadline:?}"))))
}
