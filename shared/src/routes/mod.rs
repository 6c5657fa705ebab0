//! One file per route: what each webhook does once its signature is checked.
//! [`App::handle`](crate::app::App::handle) dispatches to them.

pub mod answer;
pub mod dial_result;
pub mod goodbye;
pub mod recording;
pub mod status;
pub mod whisper;

use crate::app::{App, Handled, no_content, plain};
use crate::call::CallUpdate;
use crate::error::Error;
use crate::fields::CallSid;
use crate::metrics::Counts;
use crate::store::{Recorded, Store};
use lambda_http::http::StatusCode;
use lambda_http::tracing;

/// What a route logs about its write, and counts.
fn outcome(recorded: &Result<Recorded, Error>) -> (&'static str, Counts) {
    match recorded {
        Ok(Recorded::Applied { newly_qualified, .. }) => {
            ("recorded", Counts { qualified_calls: u32::from(*newly_qualified), ..Counts::default() })
        }
        Ok(Recorded::Duplicate) => ("duplicate", Counts { duplicates: 1, ..Counts::default() }),
        Err(_) => ("storage failed", Counts { storage_errors: 1, ..Counts::default() }),
    }
}

/// The answer of a callback route once its write is done: `204`, or `503` when
/// storage failed, so that Twilio delivers it again.
fn stored_or_unavailable(recorded: Result<Recorded, Error>, call_sid: CallSid) -> Handled {
    let (outcome, counts) = outcome(&recorded);
    let response = match recorded {
        Ok(_) => no_content(),
        Err(err) => {
            tracing::error!(call_sid = call_sid.as_str(), reason = %err, "storage failed; Twilio will deliver the callback again");
            plain(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable; retry later").response
        }
    };
    Handled { response, call_sid: Some(call_sid), outcome, counts }
}

/// Records an update for a route whose caller is waiting on the line: storage
/// gets the answer budget, and a failure is logged and counted, never passed on.
async fn record_for_caller<S: Store>(app: &App<S>, update: &CallUpdate) -> Result<Recorded, Error> {
    let recorded = match tokio::time::timeout(app.config.answer_storage_budget, app.store.record(update)).await {
        Ok(recorded) => recorded,
        Err(_) => Err(Error::Storage(format!("no answer within {:?}", app.config.answer_storage_budget))),
    };
    if let Err(err) = &recorded {
        tracing::error!(call_sid = update.call.call_sid.as_str(), event = update.event.event_key, reason = %err, "storage failed; the caller is answered anyway");
    }
    recorded
}
