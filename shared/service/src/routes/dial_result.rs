//! `POST /api/twilio/voice/dial-result`: the `<Dial>` to the business ended.
//! Store its outcome and talk time. When nobody answered and the number takes
//! voicemail: a prompt, then `<Record>` (its recording callback comes to the
//! recording route); otherwise hang up. A call placed through our API
//! (`Direction=outbound-api`) dialled a customer for an agent: it hangs up.
//!
//! Like the answer route, this never fails the caller once the signature is
//! valid: it reads the outcome leniently ([`DialReading`]), so a malformed
//! `To` or optional field is left out, and an outcome that cannot be stored
//! (no readable `CallSid` or `DialCallStatus`) is logged and still answered.
//! What storage cannot take is queued, never passed on to the caller. An
//! outcome from another account than its call's is not stored, and the caller
//! hangs up.

use super::recorded_or_deferred_for_caller;
use crate::context::Context;
use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, twiml};
use crate::route::Route;
use calltrack_core::call::CallUpdate;
use calltrack_core::ports::{LookUpNumbers, RecordCalls, Recorded};
use calltrack_twilio::fields::{CallSid, Direction};
use calltrack_twilio::twiml::{Record, Response};
use calltrack_twilio::voice::DialReading;
use calltrack_twilio::{Error, Webhook};
use lambda_http::tracing;

pub async fn handle<S: RecordCalls + LookUpNumbers>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    // A call placed through our API dialled a customer for the agent: the agent takes no voicemail.
    let placed = hook.params.get("Direction") == Some(Direction::OutboundApi.as_str());
    let reading = DialReading::read(hook.params);
    // The call is another account's: nothing of it is ours to record, a voicemail neither.
    let mut foreign = false;
    let unread = reading.unread.iter().map(|err| err.field().unwrap_or("query")).collect::<Vec<_>>().join(",");
    let (call_sid, outcome, counts) = match &reading.dial {
        Some(dial) => {
            if !unread.is_empty() {
                tracing::warn!(call_sid = dial.call_sid.as_str(), unread, "dial outcome stored without what could not be read");
            }
            let recorded = cx.record_for_caller(&CallUpdate::dial(dial, cx.now)).await;
            foreign = matches!(recorded, Ok(Recorded::ForeignAccount(_)));
            let callback = || cx.deferred(Route::DialResult, &hook.url, &dial.params);
            let (outcome, counts) = recorded_or_deferred_for_caller(cx, recorded, callback).await;
            (Some(dial.call_sid), outcome, counts)
        }
        None => {
            tracing::warn!(
                call_sid = reading.call_sid.as_ref().map(CallSid::as_str),
                unread,
                "dial outcome unreadable; the caller is answered and nothing is stored"
            );
            // Nothing stored: the callback's own fields were refused, not the caller.
            (reading.call_sid, Outcome::Refused, Counts::default())
        }
    };

    let response = if reading.connected || foreign || placed {
        Response::new().hangup()
    } else if takes_voicemail(cx, &reading).await {
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
    Ok(Handled { response: twiml(response.to_xml()), call_sid, outcome, counts })
}

/// Whether the called tracking number takes voicemail; when its configuration
/// cannot be read (or the number called cannot), it does: a message the caller
/// chooses to leave after a prompt is better than a lost lead.
async fn takes_voicemail<S: LookUpNumbers>(cx: &Context<'_, S>, reading: &DialReading) -> bool {
    let Some(number) = &reading.tracking_number else { return true };
    cx.lookup_number(number).await.number().is_none_or(|n| n.voicemail)
}
