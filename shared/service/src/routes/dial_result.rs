//! `POST /api/twilio/voice/dial-result`: the `<Dial>` to the business ended.
//! Store its outcome and talk time. When nobody answered and the number takes
//! voicemail: a prompt, then `<Record>` (its recording callback comes to the
//! recording route); otherwise hang up. Like the answer route, this never fails
//! the caller because of storage.

use super::outcome;
use crate::context::Context;
use crate::reply::{Handled, twiml};
use crate::route::Route;
use calltrack_core::call::CallUpdate;
use calltrack_core::ports::{LookUpNumbers, RecordCalls};
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio::twiml::{Record, Response};
use calltrack_twilio::voice::DialWebhook;
use calltrack_twilio::{Error, Webhook};

pub async fn handle<S: RecordCalls + LookUpNumbers>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    let dial = DialWebhook::parse(hook.params)?;
    let recorded = cx.record_for_caller(&CallUpdate::dial(&dial, cx.now)).await;
    let (outcome, counts) = outcome(&recorded);

    let response = if dial.dial_call_status.connected() {
        Response::new().hangup()
    } else if takes_voicemail(cx, &dial).await {
        let record = Record::new()
            .max_length(cx.settings.voicemail_max_seconds)
            .play_beep(true)
            .timeout(5)
            .action(&cx.url(Route::Goodbye))
            .recording_status_callback(&cx.url(Route::Recording))
            .recording_status_callback_event("completed absent");
        // An empty recording skips `action` and carries on here.
        Response::new().say(cx.settings.voicemail_prompt.as_str()).record(record).hangup()
    } else {
        Response::new().hangup()
    };
    Ok(Handled { response: twiml(response.to_xml()), call_sid: Some(dial.call_sid), outcome, counts })
}

/// Whether the called tracking number takes voicemail; when its configuration
/// cannot be read, it does: a message is better than a lost lead.
async fn takes_voicemail<S: LookUpNumbers>(cx: &Context<'_, S>, dial: &DialWebhook) -> bool {
    let Some(number) = dial.params.get("To").and_then(|to| PhoneNumber::e164("To", to).ok()) else { return true };
    cx.lookup_number(&number).await.number().is_none_or(|n| n.voicemail)
}
