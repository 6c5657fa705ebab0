//! Signature checks on arbitrary requests.
//!
//! - `Keyring::parse`, `Webhook::from_raw` and `Webhook::verify` never panic on
//!   any method, URL, content type, body, signature or settings header, and a
//!   refused signature is always `BadSignature`.
//! - A request signed by `sign()` with a secret the keyring holds (an auth token
//!   for any account, the request's own account's token, or a shared key named in
//!   the settings header) always verifies, whatever else the keyring holds.
//! - Changing any one byte of that signature makes it fail.

#![no_main]

use arbitrary::Arbitrary;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Error, Keyring, RawRequest, Webhook};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Method<'a> {
    Get,
    Post,
    Other(&'a str),
}

#[derive(Arbitrary, Debug)]
enum ContentType<'a> {
    Absent,
    Form,
    FormWithCharset,
    Json,
    Other(&'a str),
}

/// A URL: any text, or one shaped like a webhook URL so the checks get past parsing.
#[derive(Arbitrary, Debug)]
enum UrlIn<'a> {
    Raw(&'a str),
    Parts { https: bool, host: &'a str, port: Option<u16>, path: &'a str, query: Option<&'a str> },
}

impl UrlIn<'_> {
    fn text(&self) -> String {
        match *self {
            UrlIn::Raw(url) => url.to_owned(),
            UrlIn::Parts { https, host, port, path, query } => {
                let scheme = if https { "https" } else { "http" };
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                let query = query.map(|q| format!("?{q}")).unwrap_or_default();
                format!("{scheme}://{host}{port}/{path}{query}")
            }
        }
    }
}

/// A body: any bytes, or parameters form-encoded or as a JSON object.
#[derive(Arbitrary, Debug)]
enum BodyIn<'a> {
    Raw(&'a [u8]),
    Form(Vec<(&'a str, &'a str)>),
    Json(Vec<(&'a str, &'a str)>),
}

impl BodyIn<'_> {
    fn bytes(&self) -> Vec<u8> {
        match self {
            BodyIn::Raw(bytes) => bytes.to_vec(),
            BodyIn::Form(pairs) => {
                pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&").into_bytes()
            }
            BodyIn::Json(pairs) => {
                let object: serde_json::Map<String, serde_json::Value> = pairs.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect();
                serde_json::to_vec(&object).expect("a JSON object serialises")
            }
        }
    }
}

/// Form-encodes like Twilio: unreserved bytes as they are, the rest as `%XY`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Signer {
    /// An auth token valid for every account, no settings header.
    AuthToken,
    /// The same, announced as `algorithm=HMAC_SHA1`.
    AuthTokenSettings,
    /// The token of the request's `AccountSid` (any account when it has none).
    AccountToken,
    /// A shared key, HMAC-SHA256, named by the settings header.
    SharedKey,
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: Method<'a>,
    url: UrlIn<'a>,
    content_type: ContentType<'a>,
    signature: Option<&'a str>,
    settings: Option<&'a str>,
    /// Text for `Keyring::parse`; what it holds stays in the keyring beside our secret.
    keyring: &'a str,
    signer: Signer,
    secret: &'a str,
    key_id: &'a str,
    flip_at: usize,
    flip_mask: u8,
    body: BodyIn<'a>,
}

fuzz_target!(|input: Input<'_>| {
    let input_url = input.url.text();
    let body = input.body.bytes();
    let method = match input.method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Other(method) => method,
    };
    let content_type = match input.content_type {
        ContentType::Absent => None,
        ContentType::Form => Some("application/x-www-form-urlencoded"),
        ContentType::FormWithCharset => Some("application/x-www-form-urlencoded; charset=utf-8"),
        ContentType::Json => Some("application/json"),
        ContentType::Other(other) => Some(other),
    };
    let parsed = Keyring::parse(input.keyring);
    if let Ok(keys) = &parsed {
        let _ = format!("{keys:?}");
    }

    // Whatever arrives: no panic, and a refusal is a refusal of the signature.
    let raw = RawRequest { method, url: &input_url, content_type, body: &body, signature: input.signature, settings: input.settings };
    if let Ok(hook) = Webhook::from_raw(raw) {
        let keys = Keyring::default().with_token(input.secret).with_shared_key(input.key_id, input.secret);
        for keys in [Some(&keys), parsed.as_ref().ok()].into_iter().flatten() {
            if let Err(err) = hook.verify(keys) {
                assert!(matches!(err, Error::BadSignature(_)), "verify refused with {err:?}");
            }
        }
    }

    // A request signed as Twilio signs it verifies. JSON bodies are signed through
    // `bodySHA256` in the URL's query, put first so the URL's own cannot shadow it.
    let is_json = content_type.is_some_and(|t| t.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"));
    let url = if is_json && method == "POST" {
        let hash = signature::body_sha256(&body);
        match input_url.split_once('?') {
            Some((base, query)) => format!("{base}?bodySHA256={hash}&{query}"),
            None => format!("{}?bodySHA256={hash}", input_url),
        }
    } else {
        input_url.to_owned()
    };
    let unsigned = RawRequest { method, url: &url, content_type, body: &body, signature: None, settings: None };
    let Ok(hook) = Webhook::from_raw(unsigned) else { return };
    let payload = match method {
        "POST" if is_json => Payload::Json(&body),
        "POST" => Payload::Form(&hook.params),
        _ => Payload::UrlOnly,
    };
    let base = parsed.unwrap_or_default().with_token("decoy-token");
    // A shared key's id travels in a comma-separated, trimmed header item.
    let key_id = if input.key_id.contains(',') || input.key_id.trim_end() != input.key_id { "k1" } else { input.key_id };
    let shared_settings = format!("key={key_id},algorithm=HMAC_SHA256");
    let (keys, algorithm, settings) = match input.signer {
        Signer::AuthToken => (base.with_token(input.secret), Algorithm::HmacSha1, None),
        Signer::AuthTokenSettings => (base.with_token(input.secret), Algorithm::HmacSha1, Some("algorithm=HMAC_SHA1")),
        Signer::AccountToken => {
            let keys = match hook.params.get("AccountSid") {
                Some(account) => {
                    base.with_account_token("AC00000000000000000000000000000000", "decoy").with_account_token(account, input.secret)
                }
                None => base.with_token(input.secret),
            };
            (keys, Algorithm::HmacSha1, None)
        }
        // The first key with the id is the one used, so ours goes first.
        Signer::SharedKey => (
            Keyring::default().with_shared_key(key_id, input.secret).with_shared_key("decoy", input.secret).with_token("decoy-token"),
            Algorithm::HmacSha256,
            Some(shared_settings.as_str()),
        ),
    };
    let signature = signature::sign(input.secret, algorithm, &url, payload);
    let signed = RawRequest { signature: Some(&signature), settings, ..unsigned };
    let hook = Webhook::from_raw(signed).expect("the same request decoded without a signature");
    if let Err(err) = hook.verify(&keys) {
        panic!("a request signed with the keyring's secret is refused: {err}\nurl: {url:?}\nparams: {:?}", hook.params);
    }

    // Any one byte changed: refused. Signatures are base64, so XOR with 1..=127 stays ASCII.
    let mut flipped = signature.clone().into_bytes();
    let at = input.flip_at % flipped.len();
    flipped[at] ^= input.flip_mask % 127 + 1;
    let flipped = String::from_utf8(flipped).expect("still ASCII");
    let hook = Webhook::from_raw(RawRequest { signature: Some(&flipped), ..signed }).expect("decoded before");
    assert!(matches!(hook.verify(&keys), Err(Error::BadSignature(_))), "signature {signature:?} changed to {flipped:?} still verifies");
});
