//! `POST /api/twilio/voice/connect?customer=…&record=…`: a call placed through
//! our API (`POST /api/calls`) reached the agent, who answered. Asked first
//! without `Digits`: "press 1", in a `<Gather>` that posts the key back here.
//! Asked again with `1`: `<Dial>` the customer from the tracking number
//! (the call's `From`), recorded when `record` says so, every callback pointed
//! at us as a forwarded call's are. Any other key, or none (the agent's
//! voicemail answered), hangs up: the customer is never called, so an
//! agent's voicemail never talks to a customer.
//!
//! The agent is on the line, so nothing here answers with an error once the
//! signature is valid: a URL we did not give (no customer) is logged, and the
//! agent told the call cannot be placed. Needs no storage: what to dial is in
//! the URL we gave Twilio, which its signature covers.

use super::screen::{press_one, pressed_one};
use crate::context::Context;
use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, twiml};
use crate::route::Route;
use calltrack_twilio::fields::{CallSid, Field, PhoneNumber};
use calltrack_twilio::params::{Params, query_of};
use calltrack_twilio::twiml::{Dial, DialRecord, Number, Response};
use calltrack_twilio::{Error, Webhook};
use lambda_http::tracing;

/// What the agent hears when the URL does not say whom to call.
const CANNOT_PLACE: &str = "Sorry, this call cannot be placed.";

pub fn handle<S>(cx: &Context<'_, S>, hook: &Webhook) -> Result<Handled, Error> {
    let query = Params::from_form(query_of(&hook.url).as_bytes())?;
    let call_sid = hook.params.get("CallSid").and_then(|sid| CallSid::parse("CallSid", sid).ok());
    let Some(customer) = query.get("customer").and_then(|to| PhoneNumber::e164("customer", to).ok()) else {
        tracing::warn!(call_sid = call_sid.as_ref().map(CallSid::as_str), "connect URL without a customer to call");
        let response = Response::new().say(CANNOT_PLACE).hangup();
        return Ok(Handled { response: twiml(response.to_xml()), call_sid, outcome: Outcome::Refused, counts: Counts::default() });
    };
    let (response, outcome) = match pressed_one(hook) {
        None => (press_one(&cx.url_with_query(Route::Connect, query_of(&hook.url)), None, &cx.settings.connect_prompt), Outcome::Screened),
        Some(false) => (Response::new().hangup(), Outcome::Declined),
        Some(true) => (Response::new().dial(dial(cx, hook, &customer, query.get("record") == Some("true"))), Outcome::Forwarded),
    };
    Ok(Handled { response: twiml(response.to_xml()), call_sid, outcome, counts: Counts::default() })
}

/// `<Dial>` to the customer, from the tracking number that rang the agent.
fn dial<S>(cx: &Context<'_, S>, hook: &Webhook, customer: &PhoneNumber, record: bool) -> Dial {
    let customer_leg = Number::new(customer.as_str())
        .status_callback(&cx.url(Route::Status))
        .status_callback_event("initiated ringing answered completed");
    let mut dial = Dial::new().action(&cx.url(Route::DialResult)).timeout(cx.settings.dial_timeout_seconds);
    // Twilio's default caller ID is the call's own `From`, our tracking number; said all the same.
    if let Some(tracking_number) = hook.params.get("From").filter(|from| PhoneNumber::e164("From", from).is_ok()) {
        dial = dial.caller_id(tracking_number);
    }
    dial = dial.record(if record { DialRecord::RecordFromAnswerDual } else { DialRecord::DoNotRecord }).number(customer_leg);
    if record {
        dial = dial.recording_status_callback(&cx.url(Route::Recording)).recording_status_callback_event("completed absent");
    }
    dial
}
