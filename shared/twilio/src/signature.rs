//! `X-Twilio-Signature`: proof that a webhook came from Twilio, checked exactly as
//! Twilio's official `RequestValidator` checks it (docs/twilio-webhooks.md#signature;
//! where twilio-node and twilio-python disagree we follow twilio-python's exact string
//! comparison: docs/twilio-webhooks.md#library-differences).
//!
//! The string to sign is the full URL followed, for form bodies, by every distinct
//! `key` + `value` pair in byte order. It is streamed into the MAC, never built.

use crate::error::Error;
use crate::fields::{AccountSid, Field};
use crate::params::{Params, query_of};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cell::OnceCell;
use subtle::ConstantTimeEq;

/// The header Twilio signs every webhook with.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";
/// The header that announces shared-key signing (`key=<id>,algorithm=HMAC_SHA256`).
pub const SIGNATURE_SETTINGS_HEADER: &str = "x-twilio-webhooks-signature-settings";

/// What the signature covers besides the URL.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// A form POST: every parameter is signed.
    Form(&'a Params),
    /// A JSON POST: the URL carries `bodySHA256`, the hash of these raw bytes.
    Json(&'a [u8]),
    /// A GET (or an empty POST): the parameters are in the URL, which is all that is signed.
    UrlOnly,
}

/// A request as the signature check sees it.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The public URL Twilio requested, query string byte for byte.
    pub url: &'a str,
    pub payload: Payload<'a>,
    /// The `X-Twilio-Signature` header, untrimmed.
    pub signature: Option<&'a str>,
    /// The `X-Twilio-Webhooks-Signature-Settings` header, if any.
    pub settings: Option<&'a str>,
    /// The request's `AccountSid`, which picks the account's own auth token.
    pub account_sid: Option<&'a str>,
}

/// Which HMAC a signature uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// The auth-token signature every Twilio webhook carries.
    HmacSha1,
    /// The optional shared-key signature.
    HmacSha256,
}

/// Every secret a deployment accepts. Tokens are keyed once, here, so each
/// verification starts from a ready HMAC state.
#[derive(Clone, Default)]
pub struct Keyring {
    tokens: Vec<AuthToken>,
    shared_keys: Vec<SharedKey>,
}

#[derive(Clone)]
struct AuthToken {
    /// `None`: valid for every account (the primary and secondary token during rotation).
    account_sid: Option<String>,
    mac: Hmac<Sha1>,
}

#[derive(Clone)]
struct SharedKey {
    id: String,
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Keyring {
    /// Never prints a secret: only how many there are and which accounts they serve.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("tokens", &self.tokens.iter().map(|t| t.account_sid.as_deref().unwrap_or("*")).collect::<Vec<_>>())
            .field("shared_keys", &self.shared_keys.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// Adds an auth token that is valid for any account: the primary, or the
    /// secondary while a token is being rotated.
    pub fn with_token(mut self, token: &str) -> Self {
        self.tokens.push(AuthToken { account_sid: None, mac: hmac_sha1(token) });
        self
    }

    /// Adds the auth token of one account or subaccount; it is tried only for
    /// requests whose `AccountSid` is `account_sid`.
    pub fn with_account_token(mut self, account_sid: &str, token: &str) -> Self {
        self.tokens.push(AuthToken { account_sid: Some(account_sid.to_owned()), mac: hmac_sha1(token) });
        self
    }

    /// Adds a shared key for HMAC-SHA256 signing, named as the settings header names it.
    pub fn with_shared_key(mut self, id: &str, secret: &str) -> Self {
        self.shared_keys.push(SharedKey { id: id.to_owned(), mac: hmac_sha256(secret) });
        self
    }

    /// Reads the secrets a deployment accepts from one text, as kept in SSM
    /// Parameter Store or `TWILIO_AUTH_TOKEN`: entries separated by commas or
    /// new lines, each one of
    /// - `<auth token>`: valid for any account (list the primary and, during a
    ///   rotation, the secondary);
    /// - `AC<32 hex>=<auth token>`: that account's or subaccount's own token;
    /// - `key:<id>=<secret>`: an HMAC-SHA256 shared key.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut keys = Keyring::default();
        for entry in text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
            keys = match entry.split_once('=') {
                Some((id, secret)) if id.starts_with("key:") && !secret.is_empty() => keys.with_shared_key(&id[4..], secret),
                Some((account, token)) if account.starts_with("AC") && !token.is_empty() => {
                    AccountSid::parse("auth token entry", account)?;
                    keys.with_account_token(account, token)
                }
                Some(_) => return Err(Error::invalid("auth token entry", "is neither a token, AC…=token nor key:id=secret")),
                None => keys.with_token(entry),
            };
        }
        if keys.tokens.is_empty() && keys.shared_keys.is_empty() {
            return Err(Error::invalid("auth tokens", "are empty"));
        }
        Ok(keys)
    }

    /// Checks that `request` was signed by one of our secrets. Every failure is
    /// [`Error::BadSignature`] with a reason meant for logs, never for the caller.
    pub fn verify(&self, request: &SignedRequest<'_>) -> Result<(), Error> {
        let signature = match request.signature {
            None => return Err(Error::BadSignature("missing X-Twilio-Signature header")),
            Some("") => return Err(Error::BadSignature("empty X-Twilio-Signature header")),
            Some(signature) => signature.as_bytes(),
        };
        if let Payload::Json(body) = request.payload {
            check_body_hash(request.url, body)?;
        }
        let params = signed_params(request.payload);
        // The URL as received matches almost always: its port twin is built only
        // when it does not, and then once for every key.
        let twin = OnceCell::new();
        let matches = |mac: &dyn Fn(&str) -> Signature| {
            mac(request.url).matches(signature) || mac(twin.get_or_init(|| port_twin(request.url))).matches(signature)
        };

        match algorithm(request.settings)? {
            Algorithm::HmacSha1 => {
                let mut tried_any = false;
                for token in self.tokens.iter().filter(|t| t.account_sid.is_none() || t.account_sid.as_deref() == request.account_sid) {
                    tried_any = true;
                    if matches(&|url| Signature::sha1(token.mac.clone(), url, &params)) {
                        return Ok(());
                    }
                }
                Err(Error::BadSignature(if tried_any { mismatch(signature, request.url, 20) } else { "no auth token for this AccountSid" }))
            }
            Algorithm::HmacSha256 => {
                let id = setting(request.settings.unwrap_or_default(), "key");
                let key = self.shared_keys.iter().find(|k| Some(k.id.as_str()) == id).ok_or(Error::BadSignature("unknown shared key"))?;
                if matches(&|url| Signature::sha256(key.mac.clone(), url, &params)) {
                    Ok(())
                } else {
                    Err(Error::BadSignature(mismatch(signature, request.url, 32)))
                }
            }
        }
    }
}

/// Why a signature that matched none of our keys did not: the header is not
/// the base64 of a `digest_len`-byte HMAC (it could match no key), the URL is
/// not an absolute http(s) URL (Twilio signs only those), or, both being
/// well-formed, another key, URL or body was signed.
fn mismatch(signature: &[u8], url: &str, digest_len: usize) -> &'static str {
    let mut digest = [0u8; 32];
    if !matches!(BASE64.decode_slice(signature, &mut digest), Ok(len) if len == digest_len) {
        return if digest_len == 20 {
            "malformed signature: not the base64 of a 20-byte HMAC-SHA1"
        } else {
            "malformed signature: not the base64 of a 32-byte HMAC-SHA256"
        };
    }
    let host = ["https://", "http://"].iter().find_map(|scheme| {
        let head = url.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme).then(|| &url[scheme.len()..])
    });
    match host {
        Some(rest) if !rest.is_empty() && !rest.starts_with(['/', '?', '#']) && !rest.contains(char::is_whitespace) => {
            "signature does not match"
        }
        _ => "malformed URL: not an absolute http(s) URL",
    }
}

/// Signs a request the way Twilio does: for tests, the sample events and the CLI.
pub fn sign(secret: &str, algorithm: Algorithm, url: &str, payload: Payload<'_>) -> String {
    let params = signed_params(payload);
    let signature = match algorithm {
        Algorithm::HmacSha1 => Signature::sha1(hmac_sha1(secret), url, &params),
        Algorithm::HmacSha256 => Signature::sha256(hmac_sha256(secret), url, &params),
    };
    signature.as_str().to_owned()
}

/// Lowercase hex SHA-256 of a body: what Twilio puts in `bodySHA256` for JSON webhooks.
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn hmac_sha1(secret: &str) -> Hmac<Sha1> {
    Hmac::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
}

fn hmac_sha256(secret: &str) -> Hmac<Sha256> {
    Hmac::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
}

fn algorithm(settings: Option<&str>) -> Result<Algorithm, Error> {
    match settings.and_then(|s| setting(s, "algorithm")) {
        None | Some("HMAC_SHA1") => Ok(Algorithm::HmacSha1),
        Some("HMAC_SHA256") => Ok(Algorithm::HmacSha256),
        Some(_) => Err(Error::BadSignature("unsupported signature algorithm")),
    }
}

/// One `name=value` item of the comma-separated settings header, e.g. its `key`.
pub fn setting<'a>(settings: &'a str, name: &str) -> Option<&'a str> {
    settings.split(',').filter_map(|item| item.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// JSON bodies are not signed themselves: the signed URL carries their hash.
fn check_body_hash(url: &str, body: &[u8]) -> Result<(), Error> {
    // Only this one parameter is decoded: another in the query that is not UTF-8
    // (a Latin-1 `%E9`) must not hide it, as it does not in Twilio's validators.
    let expected = query_of(url).split('&').find_map(|pair| Params::from_form(pair.as_bytes()).ok()?.get("bodySHA256").map(str::to_owned));
    match expected {
        None => Err(Error::BadSignature("JSON body without bodySHA256 in the URL")),
        Some(expected) if expected.as_bytes().ct_eq(body_sha256(body).as_bytes()).into() => Ok(()),
        Some(_) => Err(Error::BadSignature("body does not match bodySHA256")),
    }
}

/// What follows the URL in the string to sign: nothing unless the body is a form.
fn signed_params(payload: Payload<'_>) -> Cow<'_, [u8]> {
    match payload {
        Payload::Form(params) => params.signing_tail(),
        Payload::Json(_) | Payload::UrlOnly => Cow::Borrowed(&[]),
    }
}

/// A base64 signature, kept on the stack: 28 bytes for SHA-1, 44 for SHA-256.
struct Signature {
    text: [u8; 44],
    len: usize,
}

impl Signature {
    fn sha1(mut mac: Hmac<Sha1>, url: &str, params: &[u8]) -> Self {
        feed(&mut mac, url, params);
        Self::encode(&mac.finalize().into_bytes())
    }

    fn sha256(mut mac: Hmac<Sha256>, url: &str, params: &[u8]) -> Self {
        feed(&mut mac, url, params);
        Self::encode(&mac.finalize().into_bytes())
    }

    fn encode(digest: &[u8]) -> Self {
        let mut text = [0u8; 44];
        let len = BASE64.encode_slice(digest, &mut text).expect("a SHA-256 digest fits 44 base64 bytes");
        Signature { text, len }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text[..self.len]).expect("base64 is ASCII")
    }

    /// Exact, constant-time comparison with the header. A length mismatch leaks
    /// only the length, which is public anyway.
    fn matches(&self, header: &[u8]) -> bool {
        self.text[..self.len].ct_eq(header).into()
    }
}

fn feed(mac: &mut impl Mac, url: &str, params: &[u8]) {
    mac.update(url.as_bytes());
    mac.update(params);
}

/// The other URL the official validator tries besides the one received: with
/// the port removed when it has one, or the scheme's default port added when it
/// has none. A non-default port that Twilio signed cannot be recovered once dropped.
fn port_twin(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..].find(['/', '?', '#']).map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    // A port is the digits after the last colon, up to the path: a colon in
    // credentials (`user:pass@`) or in an IPv6 literal (`[::1]`) has other
    // characters after it. An empty port (`a.com:`) is the default one.
    let port_colon = authority.rfind(':').filter(|&i| authority[i + 1..].bytes().all(|b| b.is_ascii_digit()));
    match port_colon {
        Some(colon) => [&url[..authority_start + colon], &url[authority_end..]].concat(),
        None => {
            let default_port = if &url[..scheme_end] == "https" { ":443" } else { ":80" };
            [&url[..authority_end], default_port, &url[authority_end..]].concat()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_twins() {
        let cases = [
            ("https://a.com/x?y=1", "https://a.com:443/x?y=1"),
            ("http://a.com/x", "http://a.com:80/x"),
            ("https://a.com:8443/x", "https://a.com/x"),
            ("https://a.com:443", "https://a.com"),
            ("https://user:pass@a.com/x", "https://user:pass@a.com:443/x"),
            ("https://user:pass@a.com:99/x", "https://user:pass@a.com/x"),
            ("https://[::1]:8080/x", "https://[::1]/x"),
            ("https://[::1]/x", "https://[::1]:443/x"),
            ("https://a.com?q=a:1", "https://a.com:443?q=a:1"),
            ("https://a.com:/x", "https://a.com/x"),
            ("https://user:123@a.com/x", "https://user:123@a.com:443/x"),
            ("https://[::1]#f", "https://[::1]:443#f"),
        ];
        for (url, twin) in cases {
            assert_eq!(port_twin(url), twin, "{url}");
        }
    }

    #[test]
    fn settings_header_items() {
        let header = "key=webhooks_sharedkey_example, algorithm=HMAC_SHA256";
        assert_eq!(setting(header, "key"), Some("webhooks_sharedkey_example"));
        assert_eq!(algorithm(Some(header)), Ok(Algorithm::HmacSha256));
        assert_eq!(algorithm(None), Ok(Algorithm::HmacSha1));
        assert!(algorithm(Some("algorithm=MD5")).is_err());
    }

    #[test]
    fn keyring_from_text() {
        let keys = Keyring::parse("primary, secondary\nAC0123456789abcdef0123456789abcdef=sub\nkey:k1=shared").unwrap();
        let shown = format!("{keys:?}");
        assert!(
            shown.contains(r#"tokens: ["*", "*", "AC0123456789abcdef0123456789abcdef"]"#) && shown.contains(r#"shared_keys: ["k1"]"#),
            "{shown}"
        );
        assert!(Keyring::parse(" , \n").is_err());
        assert!(Keyring::parse("key:k1=shared").is_ok(), "a shared key alone is a keyring");
        assert!(Keyring::parse("token").is_ok(), "a token alone is a keyring");
        assert!(Keyring::parse("ACnope=token").is_err());
        assert!(Keyring::parse("weird=thing").is_err());
        // Auth tokens are 32 hex digits: no '=' in them, so every other entry is refused.
        assert!(Keyring::parse("AC0123456789abcdef0123456789abcdef=").is_err());
    }

    #[test]
    fn mismatch_reasons() {
        let good = sign("t", Algorithm::HmacSha1, "https://a.com/x", Payload::UrlOnly);
        assert_eq!(mismatch(good.as_bytes(), "https://a.com/x", 20), "signature does not match");
        assert_eq!(mismatch(good.as_bytes(), "HTTP://a.com", 20), "signature does not match");
        for bad in ["WRONG_SIGNATURE", "abc", "XzxRK3G6TxYRHP0GYPadLK1SLjw= ", "YWJj"] {
            assert!(mismatch(bad.as_bytes(), "https://a.com/x", 20).starts_with("malformed signature"), "{bad}");
        }
        assert_eq!(mismatch(b"abc", "https://a.com/x", 20), "malformed signature: not the base64 of a 20-byte HMAC-SHA1");
        assert_eq!(mismatch(b"abc", "https://a.com/x", 32), "malformed signature: not the base64 of a 32-byte HMAC-SHA256");
        let sha256 = sign("t", Algorithm::HmacSha256, "https://a.com/x", Payload::UrlOnly);
        assert!(mismatch(sha256.as_bytes(), "https://a.com/x", 20).starts_with("malformed signature"));
        assert_eq!(mismatch(sha256.as_bytes(), "https://a.com/x", 32), "signature does not match");
        for url in ["/api/twilio/voice/answer", "a.com/x", "https://", "https:///x", "ftp://a.com/x", "https://a .com/x"] {
            assert!(mismatch(good.as_bytes(), url, 20).starts_with("malformed URL"), "{url}");
        }
    }

    #[test]
    fn keyring_debug_hides_secrets() {
        let keys = Keyring::default().with_token("supersecret").with_account_token("AC1", "other").with_shared_key("k1", "s");
        let shown = format!("{keys:?}");
        assert!(!shown.contains("supersecret") && !shown.contains("other\""), "{shown}");
        assert!(shown.contains("AC1") && shown.contains("k1"), "{shown}");
    }
}
