//! `POST /api/twilio/voice/recording`: a recording of the conversation or a
//! voicemail is ready (or absent). Attach it to its call, which marks
//! voicemail. `204` once stored; `503` when storage fails.

use super::stored_or_unavailable;
use crate::app::{App, Handled};
use crate::call::CallUpdate;
use crate::error::Error;
use crate::store::Store;
use crate::voice::RecordingWebhook;
use crate::webhook::Webhook;

pub async fn handle<S: Store>(app: &App<S>, hook: Webhook, now: i64) -> Result<Handled, Error> {
    let recording = RecordingWebhook::parse(hook.params)?;
    let recorded = app.store.record(&CallUpdate::recording(&recording, now)).await;
    Ok(stored_or_unavailable(recorded, recording.call_sid))
}
