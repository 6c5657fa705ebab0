//! Inputs the fuzz targets in fuzz/ (scripts/fuzz) found, minimized: each test
//! failed when it was written and must pass from the fix on.

use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Keyring, Params, RawRequest, Webhook};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const URL: &str = "https://calls.example.com/api/twilio/voice/status";

/// fuzz/form_params, minimized to the 3 bytes `D9 26 AA`: two parameters, `\xD9`
/// and `\xAA`, neither UTF-8 on its own, whose bytes side by side are U+066A
/// (`٪`). `from_form` checked only the whole decoded buffer, so it accepted them,
/// and `iter`, `get`, `Debug` and every typed parser then panicked slicing a `str`
/// inside a character. Every key and value must be UTF-8 on its own, or the body
/// is refused like any other that is not UTF-8.
#[test]
fn a_parameter_that_ends_inside_a_character_is_refused() {
    let bodies: [&[u8]; 6] = [b"\xD9&\xAA", b"%D9&%AA", b"%D2=%81", b"a=%C3&%A9=b", b"AccountSid=%D9&%AA", b"CallerName=Jos%C3&%A9=1"];
    for body in bodies {
        match Params::from_form(body) {
            Ok(params) => panic!("{} decoded into {} parameters that are not UTF-8 each", String::from_utf8_lossy(body), params.len()),
            Err(err) => assert_eq!((err.http_status(), err.to_string().ends_with("is not valid UTF-8")), (400, true), "{err}"),
        }
    }
}

/// The same bodies reach `Webhook::verify` before anything is authenticated:
/// with the split in `AccountSid`'s value, looking up the account's token
/// panicked, which an unsigned request could do to every function at will. It
/// must be refused as a malformed body (400), for a POST and for a GET's query.
#[test]
fn an_unsigned_request_cannot_panic_the_signature_check() {
    let keys = Keyring::default().with_token(TOKEN);
    let get_url = format!("{URL}?AccountSid=%D9&%AA");
    let requests = [
        RawRequest {
            method: "POST",
            url: URL,
            content_type: Some("application/x-www-form-urlencoded"),
            body: b"AccountSid=%D9&%AA",
            signature: Some("bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="),
            settings: None,
        },
        RawRequest { method: "GET", url: &get_url, content_type: None, body: b"", signature: Some("x"), settings: None },
    ];
    for raw in requests {
        let outcome = std::panic::catch_unwind(|| Webhook::from_raw(raw).and_then(|hook| hook.verify(&keys)));
        match outcome {
            Err(_) => panic!("{} {} panicked", raw.method, raw.url),
            Ok(result) => assert_eq!(result.map_err(|err| err.http_status()), Err(400), "{} {}", raw.method, raw.url),
        }
    }
}

/// fuzz/signature, minimized: a JSON webhook whose URL query also holds an escape
/// that is not UTF-8 (`%C3` alone; a Latin-1 `%E9` in a configured URL is the
/// likely case). `bodySHA256` was read by decoding the whole query, which failed,
/// so a request Twilio signed was refused as "JSON body without bodySHA256 in
/// the URL". Twilio's own validators (twilio-python's `parse_qs`, twilio-node's
/// `URLSearchParams`) decode leniently and accept it; so must we.
#[test]
fn a_json_webhook_verifies_beside_a_query_escape_that_is_not_utf8() {
    let body = br#"{"AccountSid":"AC0123456789abcdef0123456789abcdef","CallSid":"CA0123456789abcdef0123456789abcdef"}"#;
    let keys = Keyring::default().with_token(TOKEN);
    for query in ["%C3", "name=%E9", "name=Jos%E9&tenant=t1"] {
        let url = format!("{URL}?bodySHA256={}&{query}", signature::body_sha256(body));
        let signed = signature::sign(TOKEN, Algorithm::HmacSha1, &url, Payload::Json(body));
        let raw = RawRequest {
            method: "POST",
            url: &url,
            content_type: Some("application/json"),
            body,
            signature: Some(&signed),
            settings: None,
        };
        let hook = Webhook::from_raw(raw).expect("a JSON body decodes whatever the URL holds");
        assert_eq!(hook.verify(&keys), Ok(()), "{url}");
    }
}
