//! A call placed through the API (`POST /api/calls`), completed by its
//! webhooks on DynamoDB Local: the connect route asks the agent to press 1 and
//! only then dials the customer; the callbacks, each with the URL the API gave
//! Twilio, complete the call in any order; the agent takes no voicemail.

mod common;

use calltrack_core::call::CallUpdate;
use calltrack_core::placement::Placement;
use calltrack_core::ports::{ManageNumbers, ReadCalls, RecordCalls};
use calltrack_core::view::{CallSummary, Scope};
use calltrack_dynamo::DynamoStore;
use calltrack_service::{App, Route, Settings};
use calltrack_twilio::Keyring;
use calltrack_twilio::fields::{AccountSid, CallSid, Field, PhoneNumber};
use common::{BASE, TOKEN, event_with_query};
use std::collections::BTreeMap;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const CUSTOMER: &str = "+14155550100";

/// A call placed by `amy` from `user-1`'s number, for contact `c-9`. The
/// requester's id sorts before the number's user's, so that a merge keeping
/// the greater would show the wrong owner.
fn placement() -> Placement {
    let number = common::number("tenant-a", "user-1", None);
    Placement {
        agent: number.forward_to.clone(),
        number,
        user_id: "amy".into(),
        customer: PhoneNumber::e164("to", CUSTOMER).unwrap(),
        record: true,
        crm: BTreeMap::from([("contactId".to_owned(), "c-9".to_owned())]),
    }
}

fn sid(n: u64) -> CallSid {
    CallSid::parse("CallSid", &common::sid("CA", n)).unwrap()
}

async fn app() -> App<DynamoStore> {
    let store = common::store().await;
    store.put_tracking_number(&common::number("tenant-a", "user-1", None)).await.unwrap();
    App::new(store, Keyring::default().with_token(TOKEN), Settings { public_base_url: Some(BASE.into()), ..Settings::default() }, "test")
}

/// The agent's leg of call `n` (it rang the agent from the tracking number), at `status`, with `extra` pairs.
fn agent_leg(n: u64, status: &str, extra: &str) -> String {
    format!(
        "AccountSid={ACCOUNT}&CallSid={}&CallStatus={status}&Direction=outbound-api&From=%2B18005551212&To=%2B14155550123{extra}",
        common::sid("CA", n)
    )
}

/// The customer's leg of call `n`: the `<Dial>` child.
fn customer_leg(n: u64, status: &str, extra: &str) -> String {
    format!(
        "AccountSid={ACCOUNT}&CallSid={}&CallStatus={status}&Direction=outbound-dial&From=%2B18005551212&To=%2B14155550100&ParentCallSid={}{extra}",
        common::sid("CA", 1000 + n),
        common::sid("CA", n)
    )
}

/// `form` to `route` with `query`, signed; the answer's status and body.
async fn send(app: &App<DynamoStore>, route: Route, query: &str, form: &str) -> (u16, String) {
    let event = event_with_query("POST", route.path(), query, "application/x-www-form-urlencoded", form, true);
    let answer = common::invoke(app, &event).await;
    (answer.status, answer.body)
}

/// The TwiML's element names.
fn verbs(xml: &str) -> Vec<String> {
    common::elements(xml).into_iter().map(|(name, _)| name).collect()
}

async fn stored(app: &App<DynamoStore>, n: u64) -> CallSummary {
    app.store().call(&Scope::Operator, &sid(n)).await.unwrap().expect("stored").summary
}

#[tokio::test]
async fn the_agent_presses_1_the_customer_talks_and_the_call_is_complete_in_any_order() {
    let app = app().await;
    let placed = placement();
    let (connect, status) = (placed.connect_query(), placed.status_query());
    let account = AccountSid::parse("a", ACCOUNT).unwrap();
    let mut webhooks = vec![
        (Route::Status, status.clone(), agent_leg(1, "ringing", "&SequenceNumber=1")),
        (Route::Status, status.clone(), agent_leg(1, "in-progress", "&SequenceNumber=2")),
        (Route::Status, String::new(), customer_leg(1, "in-progress", "&SequenceNumber=2")),
        (Route::Status, String::new(), customer_leg(1, "completed", "&SequenceNumber=3&CallDuration=45")),
        (Route::DialResult, String::new(), agent_leg(1, "in-progress", "&DialCallStatus=completed&DialCallDuration=45")),
        (Route::Status, status.clone(), agent_leg(1, "completed", "&SequenceNumber=3&CallDuration=60")),
    ];
    // The first callbacks may come before the API has stored the call: here, all of them.
    webhooks.reverse();
    for (route, query, form) in &webhooks {
        let (code, body) = send(&app, *route, query, form).await;
        assert!(code == 200 || code == 204, "{route:?} {form}: {code} {body}");
    }
    app.store().record(&CallUpdate::placed(sid(1), account, &placed, common::T0)).await.unwrap();

    let call = stored(&app, 1).await;
    assert_eq!((call.tenant_id.as_deref(), call.user_id.as_deref()), (Some("tenant-a"), Some("amy")), "the requester's call");
    assert_eq!(call.to_number.as_ref().map(PhoneNumber::as_str), Some(CUSTOMER), "the customer, not the agent the first leg rang");
    assert_eq!(call.crm.get("contactId").map(String::as_str), Some("c-9"));
    assert!(call.answered && call.talk_seconds == Some(45), "{call:?}");
    assert!(!call.qualified, "outbound: no lead unless its number says so");
    assert_eq!(call.qualification_reason, "outbound, not counted as a lead (qualified: talked 45 s)");

    // The connect route: press 1, then the customer is dialled from the tracking number, recorded.
    let (_, asked) = send(&app, Route::Connect, &connect, &agent_leg(1, "in-progress", "")).await;
    assert_eq!(verbs(&asked), ["Response", "Gather", "Say", "Hangup"], "{asked}");
    let (_, dialled) = send(&app, Route::Connect, &connect, &agent_leg(1, "in-progress", "&Digits=1")).await;
    assert_eq!(verbs(&dialled), ["Response", "Dial", "Number"], "{dialled}");
    assert!(dialled.contains(r#"callerId="+18005551212""#) && dialled.contains(r#"record="record-from-answer-dual""#), "{dialled}");
    assert!(dialled.contains(&format!(">{CUSTOMER}</Number>")), "{dialled}");
}

#[tokio::test]
async fn an_agent_who_does_not_press_1_never_reaches_the_customer() {
    let app = app().await;
    let placed = placement();
    app.store().record(&CallUpdate::placed(sid(2), AccountSid::parse("a", ACCOUNT).unwrap(), &placed, common::T0)).await.unwrap();
    // The agent's voicemail answered: it presses nothing, and the Gather ends in a hang-up.
    let (_, asked) = send(&app, Route::Connect, &placed.connect_query(), &agent_leg(2, "in-progress", "")).await;
    assert_eq!(verbs(&asked).last().map(String::as_str), Some("Hangup"));
    let (_, declined) = send(&app, Route::Connect, &placed.connect_query(), &agent_leg(2, "in-progress", "&Digits=9")).await;
    assert_eq!(verbs(&declined), ["Response", "Hangup"], "another key: no customer leg");
    send(&app, Route::Status, &placed.status_query(), &agent_leg(2, "completed", "&SequenceNumber=3&CallDuration=25")).await;
    let call = stored(&app, 2).await;
    assert!(!call.answered && call.talk_seconds.is_none() && call.dial_status.is_none(), "{call:?}");
    assert_eq!(call.status, Some(calltrack_twilio::fields::CallStatus::Completed));
}

#[tokio::test]
async fn an_agent_who_does_not_answer_and_a_busy_customer_are_not_answered_calls() {
    let app = app().await;
    let placed = placement();
    let account = AccountSid::parse("a", ACCOUNT).unwrap();
    app.store().record(&CallUpdate::placed(sid(3), account, &placed, common::T0)).await.unwrap();
    send(&app, Route::Status, &placed.status_query(), &agent_leg(3, "no-answer", "&SequenceNumber=2")).await;
    let call = stored(&app, 3).await;
    assert!(!call.answered);
    assert_eq!(call.qualification_reason, "outbound, not counted as a lead (not answered: no-answer)");

    app.store().record(&CallUpdate::placed(sid(4), account, &placed, common::T0)).await.unwrap();
    send(&app, Route::Status, "", &customer_leg(4, "busy", "&SequenceNumber=2")).await;
    let (_, after) = send(&app, Route::DialResult, "", &agent_leg(4, "in-progress", "&DialCallStatus=busy")).await;
    assert_eq!(verbs(&after), ["Response", "Hangup"], "the agent takes no voicemail");
    send(&app, Route::Status, &placed.status_query(), &agent_leg(4, "completed", "&SequenceNumber=3&CallDuration=30")).await;
    let call = stored(&app, 4).await;
    assert!(!call.answered, "{call:?}");
    assert_eq!(call.dial_status, Some(calltrack_twilio::fields::DialCallStatus::Busy));
    assert_eq!(call.qualification_reason, "outbound, not counted as a lead (not answered: busy)");
}

#[tokio::test]
async fn a_number_that_counts_outbound_calls_as_leads_qualifies_a_talk_that_is_long_enough() {
    let app = app().await;
    let mut placed = placement();
    placed.number.qualify_outbound = true;
    app.store().record(&CallUpdate::placed(sid(5), AccountSid::parse("a", ACCOUNT).unwrap(), &placed, common::T0)).await.unwrap();
    send(&app, Route::DialResult, "", &agent_leg(5, "in-progress", "&DialCallStatus=completed&DialCallDuration=45")).await;
    send(&app, Route::Status, &placed.status_query(), &agent_leg(5, "completed", "&SequenceNumber=3&CallDuration=60")).await;
    let call = stored(&app, 5).await;
    assert!(call.qualified, "{}", call.qualification_reason);
}
