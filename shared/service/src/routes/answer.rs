//! `POST /api/twilio/voice/answer`: a customer calls a tracking number. Record
//! the call and forward it to the business with `<Dial>`: recorded when the
//! number's settings say so, with its disclosure and whisper (and, when it
//! screens, a press of 1 before the caller is connected), and with every
//! callback pointed at us.
//!
//! The caller is a customer, so this route never fails them once the signature
//! is valid. It reads the call leniently ([`IncomingCall`]): a SIP, Client,
//! withheld or malformed caller ID is forwarded and stored as sent, an invalid
//! CRM parameter is left out, and a call whose `CallSid` cannot be read is
//! still forwarded when its tracking number can be, and logged, not stored.
//! When storage is down it forwards with the number's last known
//! configuration, or to `FALLBACK_FORWARD_TO`, and queues the call to be
//! stored when storage is back.
//!
//! A number bound to a Twilio account is only that account's: a call whose
//! `AccountSid` is another (or cannot be read) is treated as a call to a number
//! that is not ours. The caller hears the unknown-number message, and the call
//! is stored without an owner, so no tenant sees it.

use super::recorded_or_deferred_for_caller;
use crate::context::Context;
use crate::metrics::Counts;
use crate::numbers::Lookup;
use crate::reply::{Handled, Outcome, twiml};
use crate::route::Route;
use calltrack_core::call::CallUpdate;
use calltrack_core::crm::CrmLinks;
use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{LookUpNumbers, RecordCalls, Recorded};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_twilio::fields::{AccountSid, CallSid, PhoneNumber};
use calltrack_twilio::twiml::{Dial, DialRecord, Number, Response};
use calltrack_twilio::voice::{CallWebhook, IncomingCall};
use calltrack_twilio::{Error, Webhook};
use lambda_http::tracing;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

pub async fn handle<S: RecordCalls + LookUpNumbers>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    let (crm, crm_left_out) = CrmLinks::read_url(&hook.url);
    let incoming = IncomingCall::read(hook.params);
    let lookup = match &incoming.tracking_number {
        Some(number) => cx.lookup_number(number).await,
        None => Lookup::Unknown,
    };
    let account = incoming.account_sid.as_ref();
    if let Some(bound) = lookup.number().filter(|n| !n.serves(account)) {
        tracing::warn!(
            call_sid = incoming.call_sid.as_ref().map(CallSid::as_str),
            number_account = bound.account_sid.as_ref().map(AccountSid::as_str),
            call_account = account.map(AccountSid::as_str),
            "call to a number of another account: treated as not ours"
        );
    }
    let number = lookup.number().filter(|n| n.serves(account) && n.active);
    let forward_to = match (&lookup, number) {
        (_, Some(number)) => Some(&number.forward_to),
        (Lookup::StorageDown, None) => cx.settings.fallback_forward_to.as_ref(),
        _ => None,
    };
    let response = match forward_to {
        Some(to) => forward(cx, &incoming, number, to),
        None => Response::new().say(cx.settings.unknown_number_message.as_str()).hangup(),
    };
    let forwarded = if forward_to.is_some() { Outcome::Forwarded } else { Outcome::NotForwarded };
    let left_out = unread_fields(incoming.unread.iter().chain(&crm_left_out));

    let Some(call) = &incoming.call else {
        // No readable CallSid, AccountSid, Direction or CallStatus: nothing to
        // store the call under. The caller is answered all the same.
        tracing::warn!(
            call_sid = incoming.call_sid.as_ref().map(CallSid::as_str),
            unread = left_out,
            "incoming call unreadable; the caller is answered and nothing is stored"
        );
        return Ok(Handled {
            response: twiml(response.to_xml()),
            call_sid: incoming.call_sid,
            outcome: forwarded,
            counts: Counts::default(),
        });
    };
    if !left_out.is_empty() {
        tracing::warn!(call_sid = call.call_sid.as_str(), unread = left_out, "incoming call stored without what could not be read");
    }
    let update = call_update(&incoming, call, &crm, lookup.number(), forward_to.is_some(), cx.now);
    let recorded = cx.record_for_caller(&update).await;
    let created = matches!(recorded, Ok(Recorded::Applied(_)));
    let callback = || DeferredCallback { forwarded: Some(forward_to.is_some()), ..cx.deferred(Route::Answer, &hook.url, &call.params) };
    let (outcome, mut counts) = recorded_or_deferred_for_caller(cx, recorded, callback).await;
    if created {
        counts = Counts { calls_received: 1, ..counts };
    }
    let outcome = match outcome {
        Outcome::Recorded => forwarded,
        other => other,
    };
    Ok(Handled { response: twiml(response.to_xml()), call_sid: Some(call.call_sid), outcome, counts })
}

/// What the answer stores about `call`, read from `incoming`: the caller and
/// the called number as sent (a SIP or Client caller is stored as its URI;
/// nothing when Twilio sent nothing), the number's owner when known and the
/// number is the call's account's, and the CRM links that were valid.
pub(crate) fn call_update(
    incoming: &IncomingCall,
    call: &CallWebhook,
    crm: &CrmLinks,
    number: Option<&TrackingNumber>,
    forwarded: bool,
    received_at: i64,
) -> CallUpdate {
    let mut update = CallUpdate::answer(call, number, forwarded, received_at);
    update.call.from_number = incoming.caller.as_sent();
    update.call.to_number = incoming.to_number.clone();
    update.with_crm(crm)
}

/// The names of the fields a lenient read left out, for the log: never their
/// values, which can be phone numbers.
fn unread_fields<'a>(unread: impl Iterator<Item = &'a Error>) -> String {
    unread.map(|err| err.field().unwrap_or("query")).collect::<Vec<_>>().join(",")
}

/// Whether a call to `number` is recorded: only when its settings were read
/// (now, or last known when storage fails) and say so. A number whose settings
/// could not be read at all is never recorded, so that a `record=false` number
/// is never recorded by accident.
fn records(number: Option<&TrackingNumber>) -> bool {
    number.is_some_and(|n| n.record)
}

/// The recording disclosure said to the caller before `<Dial>`: the number's
/// own, only when the call is recorded.
fn disclosure(number: Option<&TrackingNumber>) -> Option<&str> {
    number.filter(|n| records(Some(n)))?.disclosure.as_deref().filter(|text| !text.trim().is_empty())
}

/// `<Dial>` to the business, every callback pointed at our routes; the
/// disclosure first, when there is one.
fn forward<S>(cx: &Context<'_, S>, call: &IncomingCall, number: Option<&TrackingNumber>, to: &PhoneNumber) -> Response {
    let record = records(number);
    // The business sees who is calling; a caller without a number (withheld,
    // SIP, Client) shows as the tracking number.
    let caller_id = call.caller.number().or(call.tracking_number.as_ref());
    let mut business =
        Number::new(to.as_str()).status_callback(&cx.url(Route::Status)).status_callback_event("initiated ringing answered completed");
    let whisper = number.and_then(|n| n.whisper.as_deref()).map(|text| format!("text={}", utf8_percent_encode(text, NON_ALPHANUMERIC)));
    // A screened call asks the business to press 1, after its whisper.
    match (number.is_some_and(|n| n.screen), whisper) {
        (true, whisper) => business = business.url(&cx.url_with_query(Route::Screen, whisper.as_deref().unwrap_or_default())),
        (false, Some(whisper)) => business = business.url(&cx.url_with_query(Route::Whisper, &whisper)),
        (false, None) => {}
    }
    let mut dial = Dial::new().action(&cx.url(Route::DialResult)).timeout(cx.settings.dial_timeout_seconds);
    if let Some(caller_id) = caller_id {
        dial = dial.caller_id(caller_id.as_str());
    }
    dial = dial
        .answer_on_bridge(true)
        .record(if record { DialRecord::RecordFromAnswerDual } else { DialRecord::DoNotRecord })
        .number(business);
    if record {
        dial = dial.recording_status_callback(&cx.url(Route::Recording)).recording_status_callback_event("completed absent");
    }
    let response = match disclosure(number) {
        Some(text) => Response::new().say(text),
        None => Response::new(),
    };
    response.dial(dial)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(record: bool, disclosure: Option<&str>) -> TrackingNumber {
        TrackingNumber {
            phone_number: PhoneNumber::e164("To", "+18005551212").unwrap(),
            tenant_id: "t".into(),
            user_id: "u".into(),
            account_sid: None,
            lead_source: None,
            forward_to: PhoneNumber::e164("forwardTo", "+14155550123").unwrap(),
            record,
            voicemail: true,
            whisper: None,
            disclosure: disclosure.map(str::to_owned),
            screen: false,
            qualify_outbound: false,
            min_talk_seconds: None,
            active: true,
        }
    }

    #[test]
    fn only_a_number_whose_settings_were_read_and_say_so_is_recorded() {
        assert!(records(Some(&number(true, None))));
        assert!(!records(Some(&number(false, None))));
        assert!(!records(None), "settings that could not be read never record");
    }

    #[test]
    fn the_disclosure_is_said_only_on_recorded_calls() {
        let text = "This call may be recorded.";
        assert_eq!(disclosure(Some(&number(true, Some(text)))), Some(text));
        assert_eq!(disclosure(Some(&number(false, Some(text)))), None, "not recorded: nothing to disclose");
        assert_eq!(disclosure(Some(&number(true, None))), None);
        assert_eq!(disclosure(Some(&number(true, Some("  ")))), None, "a blank disclosure says nothing");
        assert_eq!(disclosure(None), None);
    }

    #[test]
    fn logs_name_the_fields_left_out_never_their_values() {
        let unread = [
            Error::Missing("CallSid"),
            Error::invalid("To", "is not an E.164 phone number: \"+1 (555) 12\""),
            Error::MalformedBody("x".into()),
        ];
        assert_eq!(unread_fields(unread.iter()), "CallSid,To,query");
    }
}
