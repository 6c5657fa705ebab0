//! One file per route: what each webhook does once its signature is checked.
//! Each reads as parse, decide, store, respond; [`crate::app::App`] calls them
//! with a [`Context`](crate::context::Context).

pub mod answer;
pub mod dial_result;
pub mod goodbye;
pub mod recording;
pub mod status;
pub mod whisper;

use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, no_content, plain};
use calltrack_core::ports::{Recorded, StorageError};
use calltrack_twilio::fields::CallSid;
use lambda_http::http::StatusCode;
use lambda_http::tracing;

/// What a route logs about its write, and counts.
fn outcome(recorded: &Result<Recorded, StorageError>) -> (Outcome, Counts) {
    match recorded {
        Ok(Recorded::Applied(applied)) => {
            (Outcome::Recorded, Counts { qualified_calls: u32::from(applied.changes.newly_qualified), ..Counts::default() })
        }
        Ok(Recorded::Duplicate) => (Outcome::Duplicate, Counts { duplicates: 1, ..Counts::default() }),
        Err(_) => (Outcome::StorageFailed, Counts { storage_errors: 1, ..Counts::default() }),
    }
}

/// The answer of a callback route once its write is done: `204`, or `503` when
/// storage failed, so that Twilio delivers it again.
fn stored_or_unavailable(recorded: Result<Recorded, StorageError>, call_sid: CallSid) -> Handled {
    let (outcome, counts) = outcome(&recorded);
    let response = match recorded {
        Ok(_) => no_content(),
        Err(err) => {
            tracing::error!(call_sid = call_sid.as_str(), reason = %err, "storage failed; Twilio will deliver the callback again");
            plain(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable; retry later")
        }
    };
    Handled { response, call_sid: Some(call_sid), outcome, counts }
}
