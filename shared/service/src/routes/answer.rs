//! `POST /api/twilio/voice/answer`: a customer calls a tracking number. Record
//! the call and forward it to the business with `<Dial>`: recorded unless the
//! number says not, with its whisper, and with every callback pointed at us.
//!
//! The caller is a customer, so this route never fails them. When storage is
//! down it forwards with the number's last known configuration, or to
//! `FALLBACK_FORWARD_TO`, and logs and counts the failure.

use super::outcome;
use crate::context::Context;
use crate::metrics::Counts;
use crate::numbers::Lookup;
use crate::reply::{Handled, Outcome, twiml};
use crate::route::Route;
use calltrack_core::call::CallUpdate;
use calltrack_core::crm::CrmLinks;
use calltrack_core::ports::{LookUpNumbers, RecordCalls, Recorded};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio::twiml::{Dial, DialRecord, Number, Response};
use calltrack_twilio::voice::CallWebhook;
use calltrack_twilio::{Error, Webhook};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

pub async fn handle<S: RecordCalls + LookUpNumbers>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    let crm = CrmLinks::from_url(&hook.url)?;
    let call = CallWebhook::parse(hook.params)?;
    let lookup = match &call.tracking_number {
        Some(number) => cx.lookup_number(number).await,
        None => Lookup::Unknown,
    };
    let number = lookup.number().filter(|n| n.active);
    let forward_to = match (&lookup, number) {
        (_, Some(number)) => Some(&number.forward_to),
        (Lookup::StorageDown, None) => cx.settings.fallback_forward_to.as_ref(),
        _ => None,
    };
    let response = match forward_to {
        Some(to) => forward(cx, &call, number, to),
        None => Response::new().say(cx.settings.unknown_number_message.as_str()).hangup(),
    };

    let update = CallUpdate::answer(&call, lookup.number(), forward_to.is_some(), cx.now).with_crm(&crm);
    let recorded = cx.record_for_caller(&update).await;
    let (outcome, mut counts) = outcome(&recorded);
    if matches!(recorded, Ok(Recorded::Applied(_))) {
        counts = Counts { calls_received: 1, ..counts };
    }
    let outcome = match (forward_to.is_some(), outcome) {
        (true, Outcome::Recorded) => Outcome::Forwarded,
        (false, Outcome::Recorded) => Outcome::NotForwarded,
        (_, other) => other,
    };
    Ok(Handled { response: twiml(response.to_xml()), call_sid: Some(call.call_sid), outcome, counts })
}

/// `<Dial>` to the business, every callback pointed at our routes.
fn forward<S>(cx: &Context<'_, S>, call: &CallWebhook, number: Option<&TrackingNumber>, to: &PhoneNumber) -> Response {
    let record = number.is_none_or(|n| n.record);
    // The business sees who is calling; a withheld caller shows as the tracking number.
    let caller_id = Some(&call.from_number).filter(|n| n.is_e164()).or(call.tracking_number.as_ref()).unwrap_or(&call.to_number);
    let mut business =
        Number::new(to.as_str()).status_callback(&cx.url(Route::Status)).status_callback_event("initiated ringing answered completed");
    if let Some(whisper) = number.and_then(|n| n.whisper.as_deref()) {
        business = business.url(&format!("{}?text={}", cx.url(Route::Whisper), utf8_percent_encode(whisper, NON_ALPHANUMERIC)));
    }
    let mut dial = Dial::new()
        .action(&cx.url(Route::DialResult))
        .timeout(cx.settings.dial_timeout_seconds)
        .caller_id(caller_id.as_str())
        .answer_on_bridge(true)
        .record(if record { DialRecord::RecordFromAnswerDual } else { DialRecord::DoNotRecord })
        .number(business);
    if record {
        dial = dial.recording_status_callback(&cx.url(Route::Recording)).recording_status_callback_event("completed absent");
    }
    Response::new().dial(dial)
}
