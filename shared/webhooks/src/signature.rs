//! Signing a delivery and checking one, with the Standard Webhooks library's signer.

use crate::Secret;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::time::Duration;
use subtle::ConstantTimeEq;

pub const HEADER_ID: &str = standardwebhooks::HEADER_WEBHOOK_ID;
pub const HEADER_TIMESTAMP: &str = standardwebhooks::HEADER_WEBHOOK_TIMESTAMP;
pub const HEADER_SIGNATURE: &str = standardwebhooks::HEADER_WEBHOOK_SIGNATURE;

/// The three headers of one signed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// `v1,` + base64 of the HMAC-SHA256.
    pub signature: String,
}

impl Signed {
    /// `webhook-id`, `webhook-timestamp` and `webhook-signature`, with their values.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [(HEADER_ID, self.id.clone()), (HEADER_TIMESTAMP, self.timestamp.to_string()), (HEADER_SIGNATURE, self.signature.clone())]
    }
}

/// A body that is not UTF-8. Standard Webhooks signs `{id}.{timestamp}.{body}`
/// as text, and its libraries (ours, and the receivers') take the body as a
/// string: JSON, which is always UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the body is not UTF-8 (Standard Webhooks signs JSON text)")
    }
}

impl std::error::Error for NotUtf8 {}

/// Signs one attempt: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Result<Signed, NotUtf8> {
    Ok(Signed { id: id.to_owned(), timestamp, signature: signature(secret, id, timestamp, body)? })
}

fn signature(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Result<String, NotUtf8> {
    // `from_bytes` cannot fail, and `sign` fails only on a body that is not UTF-8.
    let webhook = standardwebhooks::Webhook::from_bytes(secret.key().to_vec()).map_err(|_| NotUtf8)?;
    webhook.sign(id, timestamp, body).map_err(|_| NotUtf8)
}

/// Where the verifier reads a request's headers from (names are lowercase).
pub trait Headers {
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// hyper's and reqwest's `HeaderMap`.
impl Headers for reqwest::header::HeaderMap {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.get(name).map(|value| value.as_bytes())
    }
}

/// Name and value pairs, e.g. `Signed::headers()` or a test's own list.
impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.iter().find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref().as_bytes())
    }
}

/// A delivery whose signature is good and recent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: String,
    pub timestamp: i64,
    /// This id was verified before: the sender retried (its answer was lost or
    /// not 2xx). Acknowledge it with a 2xx and do not process it again.
    pub duplicate: bool,
}

/// Why a delivery is refused (answer 401 or 400; the sender will retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    MissingHeader(&'static str),
    /// A header that is not text, or a timestamp that is not a number.
    BadHeader(&'static str),
    /// Older than the tolerance: a replayed delivery, or this machine's clock is ahead.
    TooOld {
        age_s: i64,
        tolerance_s: i64,
    },
    /// Newer than the tolerance: the sender's clock is ahead of this one.
    TooNew {
        ahead_s: i64,
        tolerance_s: i64,
    },
    /// The signature header holds no `v1,` signature.
    NoSignature,
    /// No `v1,` signature matches: another secret, or a changed id, timestamp or body.
    BadSignature,
    NotUtf8,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::MissingHeader(name) => write!(f, "no {name} header"),
            Refused::BadHeader(name) if *name == HEADER_TIMESTAMP => write!(f, "{name} is not unix seconds"),
            Refused::BadHeader(name) => write!(f, "{name} is not text"),
            Refused::TooOld { age_s, tolerance_s } => {
                write!(f, "timestamp is {age_s} s old, beyond {tolerance_s} s: replayed, or this clock is ahead")
            }
            Refused::TooNew { ahead_s, tolerance_s } => {
                write!(f, "timestamp is {ahead_s} s in the future, beyond {tolerance_s} s: the sender's clock is ahead")
            }
            Refused::NoSignature => write!(f, "no v1 signature in {HEADER_SIGNATURE}"),
            Refused::BadSignature => write!(f, "signature does not match (another secret, or a changed body)"),
            Refused::NotUtf8 => write!(f, "{NotUtf8}"),
        }
    }
}

impl std::error::Error for Refused {}

/// The spec's advice, and its library's fixed tolerance.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// How many ids a verifier remembers. A sender retries for days with fresh
/// timestamps, so ids cannot be forgotten once their timestamp is too old;
/// the oldest are forgotten past this count instead.
const REMEMBERED: usize = 100_000;

/// A receiver's check of deliveries: the signature against its secrets, the
/// timestamp against its clock, and the id against those it has seen.
///
/// It computes the expected signature with the Standard Webhooks library but
/// does not call its `Webhook::verify`, which reads the system clock itself
/// and has a fixed tolerance: here the clock is a parameter, so a test can
/// replay a delivery from ten minutes ago.
pub struct Verifier {
    secrets: Vec<Secret>,
    tolerance: Duration,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .field("seen", &self.seen.len())
            .finish()
    }
}

impl Verifier {
    pub fn new(secret: Secret) -> Self {
        Self::with_secrets(vec![secret])
    }

    /// Accepts a signature by any of `secrets`: the new and the old one while a
    /// secret is being rotated.
    pub fn with_secrets(secrets: Vec<Secret>) -> Self {
        Verifier { secrets, tolerance: DEFAULT_TOLERANCE, seen: HashSet::new(), order: VecDeque::new() }
    }

    /// How far the timestamp may be from the clock, either way.
    pub fn with_tolerance(self, tolerance: Duration) -> Self {
        Verifier { tolerance, ..self }
    }

    /// Checks one delivery at `now_s` (unix seconds) and remembers its id.
    pub fn verify<H: Headers + ?Sized>(&mut self, headers: &H, body: &[u8], now_s: i64) -> Result<Verified, Refused> {
        let id = text(headers, HEADER_ID)?;
        let timestamp: i64 = text(headers, HEADER_TIMESTAMP)?.trim().parse().map_err(|_| Refused::BadHeader(HEADER_TIMESTAMP))?;
        let signatures = text(headers, HEADER_SIGNATURE)?;
        let tolerance_s = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if now_s.saturating_sub(timestamp) > tolerance_s {
            return Err(Refused::TooOld { age_s: now_s.saturating_sub(timestamp), tolerance_s });
        }
        if timestamp.saturating_sub(now_s) > tolerance_s {
            return Err(Refused::TooNew { ahead_s: timestamp.saturating_sub(now_s), tolerance_s });
        }
        let offered: Vec<&str> = signatures.split(' ').filter_map(|s| s.strip_prefix("v1,")).filter(|s| !s.is_empty()).collect();
        if offered.is_empty() {
            return Err(Refused::NoSignature);
        }
        let mut matched = false;
        for secret in &self.secrets {
            let expected = signature(secret, id, timestamp, body).map_err(|_| Refused::NotUtf8)?;
            let expected = &expected.as_bytes()["v1,".len()..];
            // Every comparison is made, in constant time, so timing tells nothing of which came close.
            for candidate in &offered {
                matched |= bool::from(candidate.as_bytes().ct_eq(expected));
            }
        }
        if !matched {
            return Err(Refused::BadSignature);
        }
        let duplicate = !self.remember(id);
        Ok(Verified { id: id.to_owned(), timestamp, duplicate })
    }

    /// Forgets an id, so that its next attempt counts as new: for a delivery
    /// that was verified but not processed (answered other than 2xx).
    pub fn forget(&mut self, id: &str) {
        if self.seen.remove(id) {
            self.order.retain(|kept| kept != id);
        }
    }

    /// Whether `id` is new.
    fn remember(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() >= REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

fn text<'h, H: Headers + ?Sized>(headers: &'h H, name: &'static str) -> Result<&'h str, Refused> {
    let value = headers.header(name).ok_or(Refused::MissingHeader(name))?;
    std::str::from_utf8(value).map_err(|_| Refused::BadHeader(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks libraries: the Rust library's
    /// `test_sign` (standardwebhooks 1.0.1, src/lib.rs; libraries/rust in
    /// github.com/standard-webhooks/standard-webhooks), the same in its other
    /// languages' tests. The spec itself shows a signature but not its key.
    const VECTOR_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const VECTOR_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const VECTOR_TIMESTAMP: i64 = 1649367553;
    const VECTOR_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const VECTOR_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn vector_secret() -> Secret {
        VECTOR_SECRET.parse().unwrap()
    }

    fn headers(id: &str, timestamp: &str, signature: &str) -> Vec<(&'static str, String)> {
        vec![(HEADER_ID, id.to_owned()), (HEADER_TIMESTAMP, timestamp.to_owned()), (HEADER_SIGNATURE, signature.to_owned())]
    }

    #[test]
    fn signs_the_published_vector() {
        let signed = sign(&vector_secret(), VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY).unwrap();
        assert_eq!(signed.signature, VECTOR_SIGNATURE);
        assert_eq!(signed.headers()[1], (HEADER_TIMESTAMP, "1649367553".to_owned()));
    }

    #[test]
    fn verifies_the_published_vector_at_its_time() {
        let mut verifier = Verifier::new(vector_secret());
        let headers = headers(VECTOR_ID, "1649367553", VECTOR_SIGNATURE);
        let verified = verifier.verify(headers.as_slice(), VECTOR_BODY, VECTOR_TIMESTAMP + 10).unwrap();
        assert_eq!(verified, Verified { id: VECTOR_ID.to_owned(), timestamp: VECTOR_TIMESTAMP, duplicate: false });
    }

    #[test]
    fn a_round_trip_verifies_once_then_is_a_duplicate() {
        let secret = Secret::generate();
        let mut verifier = Verifier::new(secret.clone());
        let now = 1_800_000_000;
        let signed = sign(&secret, "msg_1", now, b"{}").unwrap();
        assert!(!verifier.verify(signed.headers().as_slice(), b"{}", now).unwrap().duplicate);
        // A retry: same id, signed afresh a minute later.
        let retry = sign(&secret, "msg_1", now + 60, b"{}").unwrap();
        assert!(verifier.verify(retry.headers().as_slice(), b"{}", now + 60).unwrap().duplicate);
        verifier.forget("msg_1");
        assert!(!verifier.verify(retry.headers().as_slice(), b"{}", now + 60).unwrap().duplicate);
    }

    #[test]
    fn any_of_several_signatures_and_secrets_will_do() {
        let (old, new) = (Secret::generate(), Secret::generate());
        let signed = sign(&old, "msg_r", 100, b"{}").unwrap();
        let other = sign(&Secret::generate(), "msg_r", 100, b"{}").unwrap();
        let both = format!("{} v1a,c29tZXRoaW5n {}", other.signature, signed.signature);
        let mut verifier = Verifier::with_secrets(vec![new, old]);
        assert!(verifier.verify(headers("msg_r", "100", &both).as_slice(), b"{}", 100).is_ok());
    }

    #[test]
    fn each_refusal_says_why() {
        let secret = vector_secret();
        let now = 1_800_000_000;
        let good = sign(&secret, "msg_x", now, b"{\"a\":1}").unwrap();
        let old = sign(&secret, "msg_x", now - 600, b"{\"a\":1}").unwrap();
        let ahead = sign(&secret, "msg_x", now + 600, b"{\"a\":1}").unwrap();
        let forged = sign(&Secret::generate(), "msg_x", now, b"{\"a\":1}").unwrap();
        let ts = now.to_string();
        // The headers sent, the body, and why they are refused.
        type Case = (Vec<(&'static str, String)>, &'static [u8], Refused);
        let cases: Vec<Case> = vec![
            (good.headers()[1..].to_vec(), b"{\"a\":1}", Refused::MissingHeader(HEADER_ID)),
            (good.headers()[..2].to_vec(), b"{\"a\":1}", Refused::MissingHeader(HEADER_SIGNATURE)),
            (vec![good.headers()[0].clone(), good.headers()[2].clone()], b"{\"a\":1}", Refused::MissingHeader(HEADER_TIMESTAMP)),
            (headers("msg_x", "yesterday", &good.signature), b"{\"a\":1}", Refused::BadHeader(HEADER_TIMESTAMP)),
            (old.headers().to_vec(), b"{\"a\":1}", Refused::TooOld { age_s: 600, tolerance_s: 300 }),
            (ahead.headers().to_vec(), b"{\"a\":1}", Refused::TooNew { ahead_s: 600, tolerance_s: 300 }),
            (headers("msg_x", &ts, "v1a,c29tZXRoaW5n v1,"), b"{\"a\":1}", Refused::NoSignature),
            (forged.headers().to_vec(), b"{\"a\":1}", Refused::BadSignature),
            (good.headers().to_vec(), b"{\"a\":2}", Refused::BadSignature),
            (headers("msg_y", &ts, &good.signature), b"{\"a\":1}", Refused::BadSignature),
            (headers("msg_x", &ts, &good.signature[..10]), b"{\"a\":1}", Refused::BadSignature),
            (good.headers().to_vec(), b"\xff", Refused::NotUtf8),
        ];
        for (headers, body, why) in cases {
            let mut verifier = Verifier::new(secret.clone());
            assert_eq!(verifier.verify(headers.as_slice(), body, now), Err(why.clone()), "{headers:?}");
            assert!(!why.to_string().is_empty());
        }
    }

    #[test]
    fn a_refusal_is_not_remembered_as_seen() {
        let secret = Secret::generate();
        let mut verifier = Verifier::new(secret.clone());
        let signed = sign(&secret, "msg_z", 1000, b"{}").unwrap();
        assert!(verifier.verify(signed.headers().as_slice(), b"{\"changed\":1}", 1000).is_err());
        assert!(!verifier.verify(signed.headers().as_slice(), b"{}", 1000).unwrap().duplicate);
    }

    #[test]
    fn the_tolerance_can_be_changed() {
        let secret = Secret::generate();
        let signed = sign(&secret, "msg_t", 1000, b"{}").unwrap();
        let mut verifier = Verifier::new(secret).with_tolerance(Duration::from_secs(30));
        assert!(matches!(verifier.verify(signed.headers().as_slice(), b"{}", 1031), Err(Refused::TooOld { age_s: 31, tolerance_s: 30 })));
        assert!(verifier.verify(signed.headers().as_slice(), b"{}", 1030).is_ok());
    }

    #[test]
    fn an_http_header_map_works_too() {
        let secret = Secret::generate();
        let signed = sign(&secret, "msg_h", 1000, b"{}").unwrap();
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in signed.headers() {
            map.insert(name, value.parse().unwrap());
        }
        assert!(Verifier::new(secret).verify(&map, b"{}", 1000).is_ok());
    }

    #[test]
    fn a_non_utf8_body_cannot_be_signed() {
        assert_eq!(sign(&vector_secret(), "msg", 1, b"\xff\xfe"), Err(NotUtf8));
    }
}
