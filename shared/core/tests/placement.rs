//! A call placed through the API (click-to-call): what its placement stores,
//! what its event gives back, the URLs Twilio is given, and a placement Twilio
//! refused.

use calltrack_core::call::{Call, CallUpdate};
use calltrack_core::fixtures::*;
use calltrack_core::placement::Placement;
use calltrack_twilio::fields::{AccountSid, CallSid, CallStatus, Direction, Field, PhoneNumber};
use std::collections::BTreeMap;

const CUSTOMER: &str = "+14155550100";

/// A call placed by `amy` from `jane`'s number, for contact `c-9`.
fn placement() -> Placement {
    let number = number("acme", "jane", Some(20));
    Placement {
        agent: number.forward_to.clone(),
        number,
        user_id: "amy".into(),
        customer: PhoneNumber::e164("to", CUSTOMER).unwrap(),
        record: false,
        crm: BTreeMap::from([("contactId".to_owned(), "c-9".to_owned()), ("crm_ticket".to_owned(), "T-1".to_owned())]),
    }
}

fn ids() -> (CallSid, AccountSid) {
    (CallSid::parse("CallSid", &sid("CA", 1)).unwrap(), AccountSid::parse("AccountSid", &sid("AC", 1)).unwrap())
}

#[test]
fn a_placed_call_is_outbound_queued_and_the_requesters_from_the_start() {
    let (call_sid, account) = ids();
    let call = CallUpdate::placed(call_sid, account, &placement(), T0).call;
    assert_eq!((call.direction, call.status), (Some(Direction::OutboundApi), Some(CallStatus::Queued)));
    assert_eq!((call.tenant_id.as_deref(), call.user_id.as_deref()), (Some("acme"), Some("amy")), "the requester, not the number's user");
    assert_eq!(call.from_number.as_ref().map(PhoneNumber::as_str), Some(TRACKING));
    assert_eq!(call.to_number.as_ref().map(PhoneNumber::as_str), Some(CUSTOMER));
    assert_eq!((call.min_talk_seconds, call.qualify_outbound, call.account_sid), (Some(20), Some(false), Some(account)));
    assert!(call.forwarded, "its conversation is the Dial to the customer");
    assert_eq!(call.crm, placement().crm);
    assert_eq!(call.qualification_reason, "outbound, not counted as a lead (in progress: queued)");
}

#[test]
fn the_placed_event_gives_back_what_the_placement_stored() {
    let (call_sid, account) = ids();
    let update = CallUpdate::placed(call_sid, account, &placement(), T0);
    let again = CallUpdate::placed_facts(call_sid, &update.event.params, T0);
    let stored = update.call;
    let facts = |c: &Call| (c.tenant_id.clone(), c.user_id.clone(), c.from_number.clone(), c.to_number.clone(), c.direction, c.status);
    assert_eq!(facts(&again), facts(&stored));
    assert_eq!((again.crm, again.tracking_number, again.forwarded), (stored.crm, stored.tracking_number, true));
    assert_eq!(again.placement_error, None);
}

#[test]
fn twilio_is_given_the_customer_the_recording_choice_the_user_and_the_links() {
    let placed = placement();
    assert_eq!(placed.connect_query(), "customer=%2B14155550100&record=false");
    assert_eq!(placed.status_query(), "customer=%2B14155550100&userId=amy&contactId=c-9&crm_ticket=T-1");
    let auth0 = Placement { user_id: "auth0|5f1e".into(), crm: BTreeMap::new(), record: true, ..placed };
    assert_eq!(auth0.status_query(), "customer=%2B14155550100&userId=auth0%7C5f1e");
    assert_eq!(auth0.connect_query(), "customer=%2B14155550100&record=true");
}

#[test]
fn a_call_twilio_did_not_place_is_kept_failed_and_says_why() {
    let (call_sid, account) = ids();
    let error = "Twilio refused the call: The number is unverified. (Twilio error 21219)";
    let update = CallUpdate::unplaced(call_sid, account, &placement(), error, T0);
    let call = &update.call;
    assert_eq!((call.status, call.placement_error.as_deref()), (Some(CallStatus::Failed), Some(error)));
    assert!(!call.answered && !call.qualified);
    assert_eq!(call.qualification_reason, format!("not placed: {error}"));
    assert_eq!(update.event.status, "failed");
    let again = CallUpdate::placed_facts(call_sid, &update.event.params, T0);
    assert_eq!((again.status, again.placement_error.as_deref()), (Some(CallStatus::Failed), Some(error)), "its event gives it back");
}

#[test]
fn a_dial_never_bridged_has_no_talk_time() {
    let number = number("acme", "jane", None);
    let updates = Lifecycle::new(2).never_bridged(Some(&number), 20, 40);
    let call = updates.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).unwrap().call)).unwrap();
    assert_eq!((call.answered, call.talk_seconds), (false, None), "the business's voicemail talked, not the caller");
    let bridged = Lifecycle::new(3).forwarded(Some(&number), 20, 40);
    let call = bridged.iter().fold(None, |call, u| Some(Call::apply(call, u.call.clone()).unwrap().call)).unwrap();
    assert_eq!(call.talk_seconds, Some(40));
}
