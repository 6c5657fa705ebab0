//! `POST /api/twilio/voice/dial-result`: the `<Dial>` to the business ended.
//! Store its outcome and talk time. When nobody answered and the number takes
//! voicemail: a prompt, then `<Record>` (its recording callback comes to the
//! recording route); otherwise hang up. Like the answer route, this never fails
//! the caller because of storage.

use super::{outcome, record_for_caller};
use crate::app::{App, Handled, Route, twiml};
use crate::call::CallUpdate;
use crate::error::Error;
use crate::fields::PhoneNumber;
use crate::store::Store;
use crate::twiml::{Record, Response};
use crate::voice::DialWebhook;
use crate::webhook::Webhook;

pub async fn handle<S: Store>(app: &App<S>, hook: Webhook, prefix: &str, now: i64) -> Result<Handled, Error> {
    let dial = DialWebhook::parse(hook.params)?;
    let recorded = record_for_caller(app, &CallUpdate::dial(&dial, now)).await;
    let (outcome, counts) = outcome(&recorded);

    let response = if dial.dial_call_status.connected() {
        Response::new().hangup()
    } else if takes_voicemail(app, &dial).await {
        let url = |route: Route| format!("{prefix}{}", route.path());
        let record = Record::new()
            .max_length(app.config.voicemail_max_seconds)
            .play_beep(true)
            .timeout(5)
            .action(&url(Route::Goodbye))
            .recording_status_callback(&url(Route::Recording))
            .recording_status_callback_event("completed absent");
        // An empty recording skips `action` and carries on here.
        Response::new().say(app.config.voicemail_prompt.as_str()).record(record).hangup()
    } else {
        Response::new().hangup()
    };
    Ok(Handled { response: twiml(response.to_xml()), call_sid: Some(dial.call_sid), outcome, counts })
}

/// Whether the called tracking number takes voicemail; when its configuration
/// cannot be read, it does: a message is better than a lost lead.
async fn takes_voicemail<S: Store>(app: &App<S>, dial: &DialWebhook) -> bool {
    let Some(number) = dial.params.get("To").and_then(|to| PhoneNumber::e164("To", to).ok()) else { return true };
    app.lookup_number(&number).await.number().is_none_or(|n| n.voicemail)
}
