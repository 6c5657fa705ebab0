//! `POST /api/twilio/voice/recording`: a recording of the conversation or a
//! voicemail is ready (or absent). Attach it to its call, which marks
//! voicemail. `204` once stored, or once queued when storage fails.

use super::{stored_or_deferred, within_deadline};
use crate::context::Context;
use crate::reply::Handled;
use crate::route::Route;
use calltrack_core::call::CallUpdate;
use calltrack_core::ports::{RecordCalls, Recorded, StorageError};
use calltrack_twilio::voice::RecordingWebhook;
use calltrack_twilio::{Error, Webhook};

pub async fn handle<S: RecordCalls>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    let recording = RecordingWebhook::parse(hook.params)?;
    let recorded = within_deadline(cx, store(cx, &recording)).await;
    let call_sid = recording.call_sid;
    let callback = || cx.deferred(Route::Recording, &hook.url, &recording.params);
    Ok(stored_or_deferred(cx, recorded, call_sid, callback).await)
}

/// The route's write, also what [`crate::replay`] does with a queued one.
pub(crate) async fn store<S: RecordCalls>(cx: &Context<'_, S>, recording: &RecordingWebhook) -> Result<Recorded, StorageError> {
    cx.store.record(&CallUpdate::recording(recording, cx.now)).await
}
