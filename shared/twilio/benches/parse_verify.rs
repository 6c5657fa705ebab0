//! What every webhook spends before it can act: decode a realistic 14-parameter
//! status callback, verify its signature and parse it into types. Input: the
//! `status_callback_parent_completed` official signature vector.
//!
//! `parse_verify/decode_and_verify` does what twilio-node's `querystring.parse`
//! and `validateRequest` do, for a like-for-like ratio (`make bench-node` times
//! those on the same input); `parse_verify/decode_verify_and_type` adds our
//! typed validation.
//!
//! Run: `make bench` (or `cargo bench -p calltrack-twilio --bench parse_verify`).

use calltrack_twilio::twiml::{Dial, DialRecord, Number, Response};
use calltrack_twilio::voice::CallWebhook;
use calltrack_twilio::{Keyring, RawRequest, Webhook};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const URL: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/twilio/call-status";
const BODY: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&CallDuration=47&CallSid=CA11111111111111111111111111111111&CallStatus=completed&CallbackSource=call-progress-events&Called=%2B14155550100&Caller=%2B12125550199&Direction=inbound&Duration=1&From=%2B12125550199&SequenceNumber=0&Timestamp=Tue%2C+02+Jan+2024+17%3A03%3A12+%2B0000&To=%2B14155550100";
const SIGNATURE: &str = "XzxRK3G6TxYRHP0GYPadLK1SLjw=";
const TOKEN: &str = "9f3c2b1a8e7d6c5b4a3f2e1d0c9b8a7f";

fn request() -> RawRequest<'static> {
    RawRequest {
        method: "POST",
        url: URL,
        content_type: Some("application/x-www-form-urlencoded"),
        body: BODY.as_bytes(),
        signature: Some(SIGNATURE),
        settings: None,
    }
}

fn decode_and_verify(keys: &Keyring, raw: RawRequest<'_>) -> Webhook {
    let hook = Webhook::from_raw(raw).expect("decodes");
    hook.verify(keys).expect("valid");
    hook
}

fn parse_and_verify(keys: &Keyring, raw: RawRequest<'_>) -> CallWebhook {
    CallWebhook::parse(decode_and_verify(keys, raw).params).expect("parses")
}

fn benches(c: &mut Criterion) {
    let keys = Keyring::default().with_token(TOKEN);
    assert_eq!(parse_and_verify(&keys, request()).duration_seconds, Some(47));

    c.bench_function("parse_verify/decode_and_verify", |b| b.iter(|| decode_and_verify(black_box(&keys), black_box(request()))));
    c.bench_function("parse_verify/decode_verify_and_type", |b| b.iter(|| parse_and_verify(black_box(&keys), black_box(request()))));

    // The floor: the HMAC-SHA1 alone over a string as long as this one's.
    {
        use hmac::{Hmac, KeyInit, Mac};
        let mac: Hmac<sha1::Sha1> = Hmac::new_from_slice(TOKEN.as_bytes()).unwrap();
        let string_to_sign = [URL, BODY].concat();
        c.bench_function("floor/hmac_sha1_only", |b| {
            b.iter(|| {
                let mut mac = mac.clone();
                mac.update(black_box(string_to_sign.as_bytes()));
                mac.finalize()
            })
        });
    }

    // The three steps on their own.
    c.bench_function("step/decode_form", |b| b.iter(|| Webhook::from_raw(black_box(request())).unwrap()));
    let hook = Webhook::from_raw(request()).unwrap();
    c.bench_function("step/verify", |b| b.iter(|| black_box(&hook).verify(black_box(&keys)).unwrap()));
    c.bench_function("step/parse_call_webhook", |b| b.iter(|| CallWebhook::parse(black_box(hook.params.clone())).unwrap()));

    // Token rotation: the signing token is the second one tried.
    let rotating = Keyring::default().with_token("the-new-primary-not-yet-in-use").with_token(TOKEN);
    c.bench_function("parse_verify/decode_verify_and_type_second_token", |b| {
        b.iter(|| parse_and_verify(black_box(&rotating), black_box(request())))
    });

    // A forged request pays for every candidate URL before it is refused.
    let forged = RawRequest { signature: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), ..request() };
    c.bench_function("verify/forged_signature_rejected", |b| {
        b.iter(|| Webhook::from_raw(black_box(forged)).unwrap().verify(black_box(&keys)).unwrap_err())
    });

    c.bench_function("twiml/forward_with_recording", |b| {
        b.iter(|| {
            Response::new()
                .dial(
                    Dial::new()
                        .action(black_box("https://calls.example.com/api/twilio/voice/dial-result"))
                        .timeout(20)
                        .caller_id("+18005551212")
                        .answer_on_bridge(true)
                        .record(DialRecord::RecordFromAnswerDual)
                        .recording_status_callback("https://calls.example.com/api/twilio/voice/recording")
                        .recording_status_callback_event("completed")
                        .number(
                            Number::new(black_box("+14155550123"))
                                .status_callback("https://calls.example.com/api/twilio/voice/status")
                                .status_callback_event("initiated ringing answered completed"),
                        ),
                )
                .to_xml()
        })
    });
}

criterion_group!(parse_verify, benches);
criterion_main!(parse_verify);
