//! Typed parsing of the four Voice webhooks: field mapping, every rejection (each
//! names its field and reason) and tolerance of parameters we do not know.

use calltrack_twilio::fields::{CallStatus, Caller, DialCallStatus, Direction, EpochMillis, RecordingStatus};
use calltrack_twilio::voice::{CallWebhook, DialReading, DialWebhook, IncomingCall, RecordingWebhook};
use calltrack_twilio::{Error, Params};

const PARENT: &str = "CA0123456789abcdef0123456789abcdef";
const CHILD: &str = "CAfedcba9876543210fedcba9876543210";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";

/// A parent-leg `completed` status callback as Twilio sends it (form order and all).
fn status_callback() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Called", "+18005551212"),
        ("ToState", "CA"),
        ("CallerCountry", "US"),
        ("Direction", "inbound"),
        ("Timestamp", "Tue, 02 Jan 2024 17:03:12 +0000"),
        ("CallbackSource", "call-progress-events"),
        ("CallerState", "NY"),
        ("SequenceNumber", "3"),
        ("CallSid", PARENT),
        ("To", "+18005551212"),
        ("CallerName", "Ada Lovelace"),
        ("FromCity", "NEW YORK"),
        ("FromState", "NY"),
        ("FromZip", "10001"),
        ("FromCountry", "US"),
        ("CallStatus", "completed"),
        ("CallDuration", "47"),
        ("From", "+12125550199"),
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
    ]
}

fn dial_action() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AccountSid", ACCOUNT),
        ("CallSid", PARENT),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("From", "+12125550199"),
        ("To", "+18005551212"),
        ("DialCallSid", CHILD),
        ("DialCallStatus", "completed"),
        ("DialCallDuration", "45"),
        ("DialBridged", "true"),
        (
            "RecordingUrl",
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef",
        ),
    ]
}

fn recording_params() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AccountSid", ACCOUNT),
        ("CallSid", PARENT),
        ("RecordingSid", RECORDING),
        (
            "RecordingUrl",
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef",
        ),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "44"),
        ("RecordingChannels", "2"),
        ("RecordingSource", "DialVerb"),
        ("RecordingStartTime", "Tue, 02 Jan 2024 17:02:27 +0000"),
    ]
}

/// `pairs` with `key` set to `value` (or removed, for `None`).
fn with(pairs: &[(&str, &str)], key: &str, value: Option<&str>) -> Params {
    with_all(pairs, &[(key, value)])
}

/// `pairs` with each change made.
fn with_all(pairs: &[(&str, &str)], changes: &[(&str, Option<&str>)]) -> Params {
    let mut params: Params = pairs.iter().copied().filter(|(k, _)| !changes.iter().any(|(key, _)| k == key)).collect();
    for (key, value) in changes {
        if let Some(value) = value {
            params.push(key, value);
        }
    }
    params
}

fn form(pairs: &[(&str, &str)]) -> Params {
    let body: String = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", k, v.replace('+', "%2B").replace(' ', "+").replace(',', "%2C")))
        .collect::<Vec<_>>()
        .join("&");
    Params::from_form(body.as_bytes()).unwrap()
}

#[test]
fn status_callback_maps_to_the_seed_field_names() {
    let call = CallWebhook::parse(form(&status_callback())).unwrap();
    assert_eq!(call.call_sid.as_str(), PARENT);
    assert_eq!(call.status, CallStatus::Completed);
    assert!(call.answered);
    assert_eq!(call.direction, Direction::Inbound);
    assert_eq!(call.started_at, Some(EpochMillis(1_704_214_992_000)));
    assert_eq!(call.sequence_number, Some(3));
    assert_eq!(call.duration_seconds, Some(47));
    assert_eq!(call.caller_name.as_deref(), Some("Ada Lovelace"));
    let json = serde_json::to_value(&call).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "callSid": PARENT,
            "accountSid": ACCOUNT,
            "fromNumber": "+12125550199",
            "toNumber": "+18005551212",
            "trackingNumber": "+18005551212",
            "direction": "inbound",
            "status": "completed",
            "answered": true,
            "parentCallSid": null,
            "startedAt": 1_704_214_992_000_i64,
            "sequenceNumber": 3,
            "durationSeconds": 47,
            "callerName": "Ada Lovelace",
            "callerCity": "NEW YORK",
            "callerState": "NY",
            "callerZip": "10001",
            "callerCountry": "US",
        })
    );
}

#[test]
fn extra_parameters_are_kept_never_refused() {
    let call = CallWebhook::parse(with(&status_callback(), "StirVerstat", Some("TN-Validation-Passed-A"))).unwrap();
    assert_eq!(call.params.get("StirVerstat"), Some("TN-Validation-Passed-A"));
    assert_eq!(call.params.get("CallbackSource"), Some("call-progress-events"));
    assert_eq!(call.params.len(), status_callback().len() + 1);
}

#[test]
fn tracking_number_follows_the_direction() {
    let tracking = |direction: &str, from: &str, to: &str| {
        let params = with_all(&status_callback(), &[("Direction", Some(direction)), ("From", Some(from)), ("To", Some(to))]);
        CallWebhook::parse(params).unwrap().tracking_number.map(|n| n.to_string())
    };
    assert_eq!(tracking("inbound", "+12125550199", "+18005551212").as_deref(), Some("+18005551212"));
    assert_eq!(tracking("outbound-api", "+18005551212", "+12125550199").as_deref(), Some("+18005551212"));
    assert_eq!(tracking("outbound-dial", "+18005551212", "+14155550123"), None, "a child leg belongs to its parent's number");
    assert_eq!(tracking("outbound-api", "Anonymous", "+12125550199"), None);
}

#[test]
fn withheld_callers_are_kept_as_they_are() {
    let call = CallWebhook::parse(with(&status_callback(), "From", Some("Anonymous"))).unwrap();
    assert_eq!(call.from_number.as_str(), "Anonymous");
    assert!(call.from_number.is_withheld());
}

#[test]
fn answered_follows_the_status() {
    for status in CallStatus::ALL {
        let call = CallWebhook::parse(with(&status_callback(), "CallStatus", Some(status.as_str()))).unwrap();
        assert_eq!(call.answered, matches!(status, CallStatus::InProgress | CallStatus::Completed), "{status}");
    }
}

#[test]
fn child_leg_status_callback() {
    let mut child = status_callback();
    child.retain(|(k, _)| !["CallSid", "Direction", "CallDuration"].contains(k));
    child.extend([("CallSid", CHILD), ("ParentCallSid", PARENT), ("Direction", "outbound-dial"), ("CallDuration", "45")]);
    let call = CallWebhook::parse(form(&child)).unwrap();
    assert_eq!(call.parent_call_sid.as_ref().map(|s| s.as_str()), Some(PARENT));
    assert_eq!(call.direction, Direction::OutboundDial);
    assert_eq!(call.duration_seconds, Some(45));
}

#[test]
fn incoming_call_needs_no_status_callback_fields() {
    let incoming: Vec<_> = status_callback()
        .into_iter()
        .filter(|(k, _)| !["Timestamp", "CallbackSource", "SequenceNumber", "CallDuration"].contains(k))
        .map(|(k, v)| if k == "CallStatus" { (k, "ringing") } else { (k, v) })
        .collect();
    let call = CallWebhook::parse(form(&incoming)).unwrap();
    assert_eq!(
        (call.status, call.answered, call.started_at, call.sequence_number, call.duration_seconds),
        (CallStatus::Ringing, false, None, None, None)
    );
}

fn call_rejection(key: &str, value: Option<&str>) -> String {
    CallWebhook::parse(with(&status_callback(), key, value)).unwrap_err().to_string()
}

#[test]
fn call_webhook_rejections_name_the_field_and_reason() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("CallSid", None, "missing CallSid"),
        ("CallSid", Some(""), "missing CallSid"),
        ("CallSid", Some("CA123"), r#"CallSid is not a valid SID (CA + 32 hex digits): "CA123""#),
        ("AccountSid", None, "missing AccountSid"),
        ("AccountSid", Some(PARENT), &format!(r#"AccountSid is not a valid SID (AC + 32 hex digits): "{PARENT}""#)),
        ("From", None, "missing From"),
        ("To", None, "missing To"),
        ("To", Some("+1 800 555"), r#"To is not an E.164 phone number or a withheld caller ID: "+1 800 555""#),
        ("Direction", None, "missing Direction"),
        (
            "Direction",
            Some("sideways"),
            r#"Direction is not one of inbound, outbound-api, outbound-dial, trunking-terminating, trunking-originating: "sideways""#,
        ),
        ("CallStatus", None, "missing CallStatus"),
        (
            "CallStatus",
            Some("done"),
            r#"CallStatus is not one of queued, initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled: "done""#,
        ),
        ("CallDuration", Some("4x"), r#"CallDuration is not a whole number: "4x""#),
        ("CallDuration", Some("-4"), r#"CallDuration is not a whole number: "-4""#),
        ("SequenceNumber", Some("1.5"), r#"SequenceNumber is not a whole number: "1.5""#),
        ("Timestamp", Some("yesterday"), r#"Timestamp is not an RFC 2822 date: "yesterday""#),
        ("ParentCallSid", Some("nope"), r#"ParentCallSid is not a valid SID (CA + 32 hex digits): "nope""#),
    ];
    for (key, value, expected) in cases {
        assert_eq!(&call_rejection(key, *value), expected, "{key}={value:?}");
    }
}

#[test]
fn rejections_are_bad_requests() {
    let err = CallWebhook::parse(with(&status_callback(), "CallSid", None)).unwrap_err();
    assert_eq!(err, Error::Missing("CallSid"));
    assert_eq!(err.http_status(), 400);
    assert_eq!(err.field(), Some("CallSid"));
    assert_eq!(CallWebhook::parse(with(&status_callback(), "CallDuration", Some("4x"))).unwrap_err().field(), Some("CallDuration"));
    assert_eq!(Error::MalformedBody("bad JSON".into()).field(), None, "about no one field");
    assert_eq!(Error::BadSignature("missing").field(), None);
}

#[test]
fn optional_fields_may_be_absent_or_empty() {
    for key in ["Timestamp", "SequenceNumber", "CallDuration", "CallerName", "FromCity", "ParentCallSid"] {
        assert!(CallWebhook::parse(with(&status_callback(), key, None)).is_ok(), "{key} absent");
        assert!(CallWebhook::parse(with(&status_callback(), key, Some(""))).is_ok(), "{key} empty");
    }
}

#[test]
fn dial_outcome() {
    let dial = DialWebhook::parse(form(&dial_action())).unwrap();
    assert_eq!(dial.call_sid.as_str(), PARENT);
    assert_eq!(dial.dial_call_sid.as_ref().map(|s| s.as_str()), Some(CHILD));
    assert_eq!(dial.dial_call_status, DialCallStatus::Completed);
    assert_eq!(dial.talk_seconds, Some(45));
    assert_eq!(dial.bridged, Some(true));
    assert!(dial.recording_url.is_some());
    let no_answer =
        DialWebhook::parse(with_all(&dial_action(), &[("DialCallStatus", Some("no-answer")), ("DialCallDuration", None)])).unwrap();
    assert_eq!((no_answer.dial_call_status, no_answer.talk_seconds), (DialCallStatus::NoAnswer, None));
}

#[test]
fn dial_outcome_rejections() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("CallSid", None, "missing CallSid"),
        ("AccountSid", Some("x"), r#"AccountSid is not a valid SID (AC + 32 hex digits): "x""#),
        ("DialCallStatus", None, "missing DialCallStatus"),
        (
            "DialCallStatus",
            Some("ringing"),
            r#"DialCallStatus is not one of completed, answered, busy, no-answer, failed, canceled: "ringing""#,
        ),
        ("DialCallSid", Some("CAxyz"), r#"DialCallSid is not a valid SID (CA + 32 hex digits): "CAxyz""#),
        ("DialCallDuration", Some("4x"), r#"DialCallDuration is not a whole number: "4x""#),
        ("DialBridged", Some("1"), r#"DialBridged is not true or false: "1""#),
    ];
    for (key, value, expected) in cases {
        assert_eq!(DialWebhook::parse(with(&dial_action(), key, *value)).unwrap_err().to_string(), *expected, "{key}={value:?}");
    }
}

#[test]
fn recording_callback() {
    let rec = RecordingWebhook::parse(form(&recording_params())).unwrap();
    assert_eq!((rec.status, rec.duration_seconds, rec.channels), (RecordingStatus::Completed, Some(44), Some(2)));
    assert_eq!(rec.started_at, Some(EpochMillis(1_704_214_947_000)));
    assert!(!rec.is_voicemail());
    let voicemail = RecordingWebhook::parse(with(&recording_params(), "RecordingSource", Some("RecordVerb"))).unwrap();
    assert!(voicemail.is_voicemail());
    let absent: Vec<_> = recording_params().into_iter().filter(|(k, _)| !["RecordingDuration", "RecordingUrl"].contains(k)).collect();
    let absent = RecordingWebhook::parse(with(&absent, "RecordingStatus", Some("absent"))).unwrap();
    assert_eq!((absent.status, absent.recording_url, absent.duration_seconds), (RecordingStatus::Absent, None, None));
}

#[test]
fn recording_callback_rejections() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("CallSid", None, "missing CallSid"),
        ("AccountSid", None, "missing AccountSid"),
        ("RecordingSid", None, "missing RecordingSid"),
        ("RecordingSid", Some(PARENT), &format!(r#"RecordingSid is not a valid SID (RE + 32 hex digits): "{PARENT}""#)),
        ("RecordingStatus", None, "missing RecordingStatus"),
        ("RecordingStatus", Some("done"), r#"RecordingStatus is not one of in-progress, completed, absent, failed: "done""#),
        ("RecordingDuration", Some("4x"), r#"RecordingDuration is not a whole number: "4x""#),
        ("RecordingChannels", Some("two"), r#"RecordingChannels is not a whole number: "two""#),
        ("RecordingStartTime", Some("2024-01-02"), r#"RecordingStartTime is not an RFC 2822 date: "2024-01-02""#),
    ];
    for (key, value, expected) in cases {
        assert_eq!(RecordingWebhook::parse(with(&recording_params(), key, *value)).unwrap_err().to_string(), *expected, "{key}={value:?}");
    }
}

#[test]
fn json_bodies_parse_like_forms() {
    let json = serde_json::to_vec(&serde_json::Map::from_iter(
        status_callback().into_iter().map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned()))),
    ))
    .unwrap();
    let from_json = CallWebhook::parse(Params::from_json(&json).unwrap()).unwrap();
    let from_form = CallWebhook::parse(form(&status_callback())).unwrap();
    assert_eq!(serde_json::to_value(&from_json).unwrap(), serde_json::to_value(&from_form).unwrap());
    // Numbers may come as JSON numbers.
    let numeric = br#"{"CallSid":"CA0123456789abcdef0123456789abcdef","AccountSid":"AC0123456789abcdef0123456789abcdef","From":"+12125550199","To":"+18005551212","Direction":"inbound","CallStatus":"completed","CallDuration":47,"SequenceNumber":3}"#;
    let call = CallWebhook::parse(Params::from_json(numeric).unwrap()).unwrap();
    assert_eq!((call.duration_seconds, call.sequence_number), (Some(47), Some(3)));
    let bad = br#"{"CallSid":"CA0123456789abcdef0123456789abcdef","AccountSid":"AC0123456789abcdef0123456789abcdef","From":"+12125550199","To":"+18005551212","Direction":"inbound","CallStatus":"completed","CallDuration":4.5}"#;
    assert_eq!(
        CallWebhook::parse(Params::from_json(bad).unwrap()).unwrap_err().to_string(),
        r#"CallDuration is not a whole number: "4.5""#
    );
}

/// The voice URL's request for an incoming call, as Twilio sends it.
fn incoming() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", PARENT),
        ("CallStatus", "ringing"),
        ("Called", "+18005551212"),
        ("CallerName", "Ada Lovelace"),
        ("Direction", "inbound"),
        ("From", "+12125550199"),
        ("To", "+18005551212"),
    ]
}

#[test]
fn an_incoming_call_read_leniently_is_the_strict_parse_when_all_is_well() {
    let read = IncomingCall::read(form(&incoming()));
    assert_eq!(read.call, Some(CallWebhook::parse(form(&incoming())).unwrap()));
    assert_eq!(read.caller, Caller::Number(CallWebhook::parse(form(&incoming())).unwrap().from_number));
    assert_eq!(read.tracking_number.as_ref().map(|n| n.as_str()), Some("+18005551212"));
    assert_eq!(read.to_number.as_ref().map(|n| n.as_str()), Some("+18005551212"));
    assert!(read.unread.is_empty());
}

#[test]
fn any_caller_id_is_kept_as_sent() {
    let cases = [
        ("sip:alice@example.com", "sip"),
        ("client:alice", "client"),
        ("anonymous", "withheld"),
        ("266696687", "withheld"),
        ("+266696687", "withheld"),
        ("+1 (555) 12", "other"),
    ];
    for (from, expected) in cases {
        let read = IncomingCall::read(with(&incoming(), "From", Some(from)));
        assert_eq!(read.caller.kind(), expected, "{from}: {:?}", read.caller);
        assert_eq!(read.caller.as_str(), from);
        let call = read.call.unwrap_or_else(|| panic!("{from}: the call can be stored"));
        assert_eq!(call.from_number.as_str(), from, "stored as sent");
        assert_eq!(call.tracking_number.as_ref().map(|n| n.as_str()), Some("+18005551212"), "{from}");
        assert!(read.unread.is_empty(), "{from}: {:?}", read.unread);
    }
    // The status route's parse keeps any caller as sent too: refusing one would
    // lose its call's status for good.
    for from in ["sip:alice@example.com", "client:alice", "+1 (555) 12", "266696687", "12125550199"] {
        let call = CallWebhook::parse(with(&status_callback(), "From", Some(from))).unwrap();
        assert_eq!((call.from_number.as_str(), call.tracking_number.as_ref().map(|n| n.as_str())), (from, Some("+18005551212")));
    }
}

#[test]
fn an_empty_or_missing_caller_is_withheld_and_nothing_is_stored_for_it() {
    for from in [None, Some("")] {
        let read = IncomingCall::read(with(&incoming(), "From", from));
        assert_eq!(read.caller, Caller::Withheld(String::new()), "{from:?}");
        assert_eq!(read.caller.as_sent(), None, "{from:?}");
        assert!(read.call.is_some(), "{from:?}");
    }
}

#[test]
fn a_malformed_to_is_kept_but_is_no_tracking_number() {
    let read = IncomingCall::read(with(&incoming(), "To", Some("+1 (800) 555")));
    assert_eq!(read.tracking_number, None);
    assert_eq!(read.to_number.as_ref().map(|n| n.as_str()), Some("+1 (800) 555"));
    assert_eq!(read.call.unwrap().to_number.as_str(), "+1 (800) 555");
    assert_eq!(IncomingCall::read(with(&incoming(), "To", None)).to_number, None);
}

#[test]
fn without_its_key_or_state_the_call_is_not_stored_but_still_has_a_tracking_number() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("CallSid", None, "missing CallSid"),
        ("CallSid", Some("CA123"), r#"CallSid is not a valid SID (CA + 32 hex digits): "CA123""#),
        ("AccountSid", None, "missing AccountSid"),
        (
            "Direction",
            Some("sideways"),
            r#"Direction is not one of inbound, outbound-api, outbound-dial, trunking-terminating, trunking-originating: "sideways""#,
        ),
        ("CallStatus", None, "missing CallStatus"),
    ];
    for (key, value, reason) in cases {
        let read = IncomingCall::read(with(&incoming(), key, *value));
        assert_eq!(read.call, None, "{key}={value:?}");
        assert_eq!(read.tracking_number.as_ref().map(|n| n.as_str()), Some("+18005551212"), "{key}={value:?}: still forwarded");
        let unread: Vec<_> = read.unread.iter().map(|e| e.to_string()).collect();
        assert_eq!(unread, [*reason], "{key}={value:?}");
        assert_eq!(read.unread[0].field(), Some(*key));
    }
    assert_eq!(IncomingCall::read(with(&incoming(), "Direction", None)).call_sid.map(|s| s.to_string()).as_deref(), Some(PARENT));
    assert_eq!(IncomingCall::read(with(&incoming(), "CallSid", Some("CA123"))).call_sid, None);
    // The account is read on its own too: whether the number is its to forward.
    let account = IncomingCall::read(with(&incoming(), "CallSid", None)).account_sid.map(|s| s.to_string());
    assert_eq!(account.as_deref(), Some(ACCOUNT));
    assert_eq!(IncomingCall::read(with(&incoming(), "AccountSid", Some("AC123"))).account_sid, None);
}

#[test]
fn the_tracking_number_follows_the_direction_when_read_leniently_too() {
    let outbound =
        with_all(&incoming(), &[("Direction", Some("outbound-api")), ("From", Some("+18005551212")), ("To", Some("sip:bob@example.com"))]);
    assert_eq!(IncomingCall::read(outbound).tracking_number.as_ref().map(|n| n.as_str()), Some("+18005551212"));
    let sip_to_sip = with_all(&incoming(), &[("From", Some("sip:alice@example.com")), ("To", Some("sip:sales@acme.sip.twilio.com"))]);
    let read = IncomingCall::read(sip_to_sip);
    assert_eq!(read.tracking_number, None, "no number: the caller hears the unknown number's message");
    assert!(read.call.is_some());
}

#[test]
fn a_malformed_optional_field_is_left_out_of_an_incoming_call() {
    let changes = [("ParentCallSid", Some("nope")), ("Timestamp", Some("yesterday")), ("FromCity", Some(""))];
    let read = IncomingCall::read(with_all(&incoming(), &changes));
    let call = read.call.expect("stored");
    assert_eq!((call.parent_call_sid, call.started_at, call.caller_city), (None, None, None), "an empty value is absent");
    let fields: Vec<_> = read.unread.iter().filter_map(Error::field).collect();
    assert_eq!(fields, ["ParentCallSid", "Timestamp"]);
    assert_eq!(call.caller_name.as_deref(), Some("Ada Lovelace"));
}

#[test]
fn a_dial_outcome_read_leniently_is_the_strict_parse_when_all_is_well() {
    let read = DialReading::read(form(&dial_action()));
    assert_eq!(read.dial, Some(DialWebhook::parse(form(&dial_action())).unwrap()));
    assert!(read.connected);
    assert_eq!(read.tracking_number.as_ref().map(|n| n.as_str()), Some("+18005551212"));
    assert!(read.unread.is_empty());
}

#[test]
fn a_dial_outcome_with_a_malformed_to_falls_back_on_called() {
    let mut pairs = dial_action();
    pairs.push(("Called", "+18005551212"));
    let read = DialReading::read(with(&pairs, "To", Some("+1 (800) 555")));
    assert_eq!(read.tracking_number.as_ref().map(|n| n.as_str()), Some("+18005551212"));
    assert!(read.dial.is_some() && read.unread.is_empty());
    let read = DialReading::read(with_all(&pairs, &[("To", Some("sip:x@y")), ("Called", Some("nope"))]));
    assert_eq!(read.tracking_number, None);
    assert!(read.dial.is_some(), "the outcome is stored all the same");
    assert_eq!(read.unread.iter().filter_map(Error::field).collect::<Vec<_>>(), ["To"]);
}

#[test]
fn a_dial_outcome_that_cannot_be_stored_still_says_whether_the_caller_talked() {
    let unreadable = with(&dial_action(), "DialCallStatus", Some("maybe"));
    let read = DialReading::read(unreadable.clone());
    assert_eq!(read.dial, None);
    assert_eq!(read.call_sid.map(|s| s.to_string()).as_deref(), Some(PARENT));
    assert!(read.connected, "45 s of talk");
    let silent = DialReading::read(with_all(&dial_action(), &[("DialCallStatus", None), ("DialCallDuration", Some("0"))]));
    assert!(!silent.connected && silent.dial.is_none());
    let no_sid = DialReading::read(with(&dial_action(), "CallSid", None));
    assert_eq!((no_sid.dial, no_sid.call_sid), (None, None));
    let bad_duration = DialReading::read(with(&dial_action(), "DialCallDuration", Some("4x")));
    assert_eq!(bad_duration.dial.map(|d| d.talk_seconds), Some(None), "left out, the outcome stored");
    assert!(bad_duration.connected, "DialCallStatus says so");
}

#[test]
fn a_completed_dial_never_bridged_did_not_connect_the_caller() {
    // A screened call the business's line answered but did not accept: the
    // caller goes on to voicemail, whatever the durations say.
    let unbridged = DialReading::read(with(&dial_action(), "DialBridged", Some("false")));
    assert!(!unbridged.connected);
    assert_eq!(unbridged.dial.and_then(|d| d.bridged), Some(false));
    assert!(DialReading::read(with(&dial_action(), "DialBridged", Some("true"))).connected);
    let unbridged_unreadable = with_all(&dial_action(), &[("DialCallStatus", Some("maybe")), ("DialBridged", Some("false"))]);
    assert!(!DialReading::read(unbridged_unreadable).connected, "talk time or not");
}

const RECORDING_URL: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef";

#[test]
fn a_recording_url_of_this_account_and_recording_is_kept() {
    for url in [RECORDING_URL.to_owned(), format!("{RECORDING_URL}.mp3"), format!("{RECORDING_URL}.wav")] {
        let rec = RecordingWebhook::parse(with(&recording_params(), "RecordingUrl", Some(&url))).unwrap();
        assert_eq!(rec.recording_url.as_deref(), Some(url.as_str()));
    }
    assert_eq!(
        RecordingWebhook::parse(with(&recording_params(), "RecordingUrl", Some(""))).unwrap().recording_url,
        None,
        "empty is absent"
    );
}

#[test]
fn any_other_recording_url_is_refused_naming_the_field() {
    let other_account = RECORDING_URL.replace("AC0123456789abcdef0123456789abcdef", "ACfedcba9876543210fedcba9876543210");
    let other_recording = RECORDING_URL.replace("RE0123456789abcdef0123456789abcdef", "REfedcba9876543210fedcba9876543210");
    let bad = [
        "https://evil.example/r.mp3".to_owned(),
        RECORDING_URL.replace("https://", "http://"),
        RECORDING_URL.replace("api.twilio.com", "api.twilio.com.evil.example"),
        RECORDING_URL.replace("api.twilio.com", "evil.example@api.twilio.com"),
        RECORDING_URL.replace("2010-04-01", "2008-08-01"),
        other_account,
        other_recording,
        format!("{RECORDING_URL}.json"),
        format!("{RECORDING_URL}/"),
        format!("{RECORDING_URL}?redirect=https://evil.example"),
        format!("{RECORDING_URL}#x"),
        format!("{RECORDING_URL}.mp3.mp3"),
        RECORDING_URL.replace("/Recordings/", "/Recordings/../Calls/"),
        RECORDING_URL.to_lowercase(),
        "javascript:alert(1)".to_owned(),
    ];
    for url in bad {
        let err = RecordingWebhook::parse(with(&recording_params(), "RecordingUrl", Some(&url))).unwrap_err();
        assert_eq!(err.field(), Some("RecordingUrl"), "{url}");
        assert_eq!(err.http_status(), 400);
        assert_eq!(
            err.to_string(),
            format!(
                "RecordingUrl is not the URL of recording {RECORDING} of account {ACCOUNT} (https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}): {url:?}"
            )
        );
    }
}
