//! Webhook bodies, form-urlencoded or JSON, from arbitrary bytes.
//!
//! - `Params::from_form` and `Params::from_json` never panic, and neither does
//!   anything done with what they return: lookups, `Debug`, serde, and the typed
//!   `CallWebhook`, `DialWebhook` and `RecordingWebhook` parsers.
//! - `from_form` either decodes or refuses the body as not UTF-8.
//! - Whatever decodes survives form-encoding and decoding again unchanged, with
//!   `+` or `%20` for a space and either case of hex.
//! - A parsed webhook reports the values its parameters carry.

#![no_main]

use calltrack_twilio::Params;
use calltrack_twilio::voice::{CallWebhook, DialWebhook, RecordingWebhook};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match Params::from_form(body) {
        Ok(params) => check(&params),
        Err(err) => assert!(err.to_string().ends_with("is not valid UTF-8"), "unexpected refusal: {err}"),
    }
    if let Ok(params) = Params::from_json(body) {
        check(&params);
    }
});

fn check(params: &Params) {
    let pairs: Vec<(&str, &str)> = params.iter().collect();
    assert_eq!(pairs.len(), params.len());
    assert_eq!(pairs.is_empty(), params.is_empty());
    for (key, _) in &pairs {
        // `get` is the first value of a key.
        let first = pairs.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
        assert_eq!(params.get(key), first);
    }
    let _ = format!("{params:?}");

    for (plus_for_space, lower_hex) in [(true, false), (false, true)] {
        let again = Params::from_form(encode(params, plus_for_space, lower_hex).as_bytes())
            .unwrap_or_else(|err| panic!("re-encoded {params:?} does not decode: {err}"));
        assert_eq!(&again, params, "form-encoding and decoding changed the parameters");
    }
    // Serialised as `[[key, value], …]`, which reads back to the same params.
    let json = serde_json::to_string(params).expect("params serialise");
    let back: Params = serde_json::from_str(&json).unwrap_or_else(|err| panic!("{json} does not read back: {err}"));
    assert_eq!(&back, params, "serialising and deserialising changed the parameters");

    if let Ok(call) = CallWebhook::parse(params.clone()) {
        assert_eq!(Some(call.call_sid.as_str()), params.get("CallSid"));
        assert_eq!(Some(call.account_sid.as_str()), params.get("AccountSid"));
        assert_eq!(Some(call.from_number.as_str()), params.get("From"));
        assert_eq!(Some(call.to_number.as_str()), params.get("To"));
        assert_eq!(call.answered, call.status.is_answered());
        if let Some(number) = &call.tracking_number {
            assert!(number.is_e164(), "tracking number {number} is not E.164");
        }
        assert_eq!(&call.params, params);
    }
    if let Ok(dial) = DialWebhook::parse(params.clone()) {
        assert_eq!(Some(dial.call_sid.as_str()), params.get("CallSid"));
        assert_eq!(Some(dial.dial_call_status.as_str()), params.get("DialCallStatus"));
        assert_eq!(dial.dial_call_sid.as_ref().map(|s| s.as_str()), params.get("DialCallSid").filter(|v| !v.is_empty()));
    }
    if let Ok(recording) = RecordingWebhook::parse(params.clone()) {
        assert_eq!(Some(recording.recording_sid.as_str()), params.get("RecordingSid"));
        assert_eq!(Some(recording.status.as_str()), params.get("RecordingStatus"));
        let _ = recording.is_voicemail();
    }
}

/// Form-encodes every pair: unreserved bytes as they are, a space as `+` or
/// `%20`, every other byte as `%XY` in upper or lower case hex.
fn encode(params: &Params, plus_for_space: bool, lower_hex: bool) -> String {
    let mut out = String::new();
    for (i, (key, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, key, plus_for_space, lower_hex);
        out.push('=');
        encode_into(&mut out, value, plus_for_space, lower_hex);
    }
    out
}

fn encode_into(out: &mut String, text: &str, plus_for_space: bool, lower_hex: bool) {
    use std::fmt::Write as _;
    for b in text.bytes() {
        match b {
            b' ' if plus_for_space => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'*' => out.push(b as char),
            _ if lower_hex => write!(out, "%{b:02x}").unwrap(),
            _ => write!(out, "%{b:02X}").unwrap(),
        }
    }
}
