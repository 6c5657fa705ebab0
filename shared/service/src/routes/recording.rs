//! `POST /api/twilio/voice/recording`: a recording of the conversation or a
//! voicemail is ready (or absent). Attach it to its call, which marks
//! voicemail. `204` once stored; `503` when storage fails.

use super::stored_or_unavailable;
use crate::context::Context;
use crate::reply::Handled;
use calltrack_core::call::CallUpdate;
use calltrack_core::ports::RecordCalls;
use calltrack_twilio::voice::RecordingWebhook;
use calltrack_twilio::{Error, Webhook};

pub async fn handle<S: RecordCalls>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    let recording = RecordingWebhook::parse(hook.params)?;
    let recorded = cx.store.record(&CallUpdate::recording(&recording, cx.now)).await;
    Ok(stored_or_unavailable(recorded, recording.call_sid))
}
