//! Properties of the signature check: whatever Twilio signs verifies, and any
//! change to the URL, a parameter, the body or the signature is caught.

use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Keyring, Params, RawRequest, Webhook};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn url() -> impl Strategy<Value = String> {
    let host = "[a-z][a-z0-9-]{0,20}(\\.[a-z]{2,6}){1,2}";
    let port = prop::option::of(1u16..);
    let path = "(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}){0,4}";
    let query = prop::option::of("[A-Za-z0-9._~%!$&'()*+,;=:@/?-]{0,40}");
    (prop::bool::ANY, host, port, path, query).prop_map(|(https, host, port, path, query)| {
        let scheme = if https { "https" } else { "http" };
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        format!("{scheme}://{host}{port}{path}{query}")
    })
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((any::<String>(), any::<String>()), 0..16)
}

fn form_body(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

fn to_params(pairs: &[(String, String)]) -> Params {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn sign_form(url: &str, pairs: &[(String, String)]) -> String {
    signature::sign(TOKEN, Algorithm::HmacSha1, url, Payload::Form(&to_params(pairs)))
}

fn verify(method: &str, url: &str, content_type: &str, body: &str, signature: &str, keys: &Keyring) -> bool {
    let raw =
        RawRequest { method, url, content_type: Some(content_type), body: body.as_bytes(), signature: Some(signature), settings: None };
    Webhook::from_raw(raw).expect("decodes").verify(keys).is_ok()
}

fn verify_form(url: &str, pairs: &[(String, String)], signature: &str) -> bool {
    verify("POST", url, "application/x-www-form-urlencoded", &form_body(pairs), signature, &Keyring::default().with_token(TOKEN))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn signed_forms_verify(url in url(), pairs in params()) {
        prop_assert!(verify_form(&url, &pairs, &sign_form(&url, &pairs)));
    }

    #[test]
    fn parameter_order_does_not_matter(url in url(), pairs in params(), seed in any::<u64>()) {
        let mut shuffled = pairs.clone();
        shuffled.sort_by_key(|(k, v)| (k.len() as u64 ^ seed, v.clone()));
        prop_assert!(verify_form(&url, &shuffled, &sign_form(&url, &pairs)));
    }

    #[test]
    fn a_changed_url_fails(url in url(), pairs in params(), extra in "[A-Za-z0-9%'~]{1,4}") {
        let signature = sign_form(&url, &pairs);
        let changed = match url.split_once('?') {
            Some((path, query)) => format!("{}?{}{}", path, query, extra),
            None => format!("{}/{}", url, extra),
        };
        prop_assert!(!verify_form(&changed, &pairs, &signature));
    }

    #[test]
    fn a_changed_parameter_value_fails(url in url(), mut pairs in params().prop_filter("one param", |p| !p.is_empty()), i in any::<prop::sample::Index>(), extra in any::<char>()) {
        let signature = sign_form(&url, &pairs);
        let i = i.index(pairs.len());
        pairs[i].1.push(extra);
        prop_assert!(!verify_form(&url, &pairs, &signature));
    }

    #[test]
    fn an_added_or_removed_parameter_fails(url in url(), pairs in params(), key in "[A-Za-z]{1,12}", value in any::<String>()) {
        let signature = sign_form(&url, &pairs);
        let mut added = pairs.clone();
        prop_assume!(!pairs.contains(&(key.clone(), value.clone())));
        added.push((key, value));
        prop_assert!(!verify_form(&url, &added, &signature));
        // And signed with the extra one, it fails once that is removed.
        prop_assert!(!verify_form(&url, &pairs, &sign_form(&url, &added)));
    }

    #[test]
    fn a_changed_signature_fails(url in url(), pairs in params(), i in any::<prop::sample::Index>(), c in "[A-Za-z0-9+/= ]") {
        let signature = sign_form(&url, &pairs);
        let mut bytes = signature.clone().into_bytes();
        let i = i.index(bytes.len());
        prop_assume!(bytes[i] != c.as_bytes()[0]);
        bytes[i] = c.as_bytes()[0];
        prop_assert!(!verify_form(&url, &pairs, &String::from_utf8(bytes).unwrap()));
        let padded = format!("{signature} ");
        prop_assert!(!verify_form(&url, &pairs, &padded), "no trimming");
    }

    #[test]
    fn another_token_fails_and_rotation_accepts_either(url in url(), pairs in params()) {
        let signature = sign_form(&url, &pairs);
        let body = form_body(&pairs);
        let form = "application/x-www-form-urlencoded";
        prop_assert!(!verify("POST", &url, form, &body, &signature, &Keyring::default().with_token("another-token")));
        let rotating = Keyring::default().with_token("new-primary").with_token(TOKEN);
        prop_assert!(verify("POST", &url, form, &body, &signature, &rotating));
    }

    #[test]
    fn get_requests_sign_the_url_alone(url in url(), query in "[A-Za-z0-9=&+]{1,40}") {
        let url = format!("{}?{query}", url.split('?').next().unwrap());
        let signature = signature::sign(TOKEN, Algorithm::HmacSha1, &url, Payload::UrlOnly);
        let keys = Keyring::default().with_token(TOKEN);
        prop_assert!(verify("GET", &url, "", "", &signature, &keys));
        let changed = format!("{url}x");
        prop_assert!(!verify("GET", &changed, "", "", &signature, &keys));
    }

    #[test]
    fn json_bodies_are_covered_by_their_hash(url in url(), body in prop::collection::btree_map("[A-Za-z]{1,8}", any::<String>(), 0..8), extra in "[a-z]{1,4}") {
        let body = serde_json::to_string(&body).unwrap();
        let base = url.split('?').next().unwrap();
        let url = format!("{}?bodySHA256={}", base, signature::body_sha256(body.as_bytes()));
        let signature = signature::sign(TOKEN, Algorithm::HmacSha1, &url, Payload::Json(body.as_bytes()));
        let keys = Keyring::default().with_token(TOKEN);
        prop_assert!(verify("POST", &url, "application/json", &body, &signature, &keys));
        let changed = format!("{}, \"{}\": 1}}", body.trim_end_matches('}'), extra);
        let changed = if body == "{}" { format!("{{\"{}\": 1}}", extra) } else { changed };
        prop_assert!(!verify("POST", &url, "application/json", &changed, &signature, &keys));
    }

    #[test]
    fn shared_key_sha256_round_trips(url in url(), pairs in params()) {
        let signature = signature::sign("shared-secret", Algorithm::HmacSha256, &url, Payload::Form(&to_params(&pairs)));
        let keys = Keyring::default().with_token(TOKEN).with_shared_key("k1", "shared-secret");
        let raw = |settings| RawRequest { method: "POST", url: &url, content_type: Some("application/x-www-form-urlencoded"), body: form_body(&pairs).leak().as_bytes(), signature: Some(&signature), settings };
        prop_assert!(Webhook::from_raw(raw(Some("key=k1,algorithm=HMAC_SHA256"))).unwrap().verify(&keys).is_ok());
        prop_assert!(Webhook::from_raw(raw(Some("key=k2,algorithm=HMAC_SHA256"))).unwrap().verify(&keys).is_err(), "unknown key id");
        prop_assert!(Webhook::from_raw(raw(None)).unwrap().verify(&keys).is_err(), "not a SHA-1 signature");
    }
}

#[test]
fn account_tokens_are_chosen_by_account_sid() {
    let url = "https://calls.example.com/api/twilio/voice/status";
    let sub = "AC11111111111111111111111111111111";
    let other = "AC22222222222222222222222222222222";
    let keys = Keyring::default().with_account_token(sub, "sub-token").with_account_token(other, "other-token");
    let check = |account: &str, token: &str| {
        let params: Params = [("AccountSid", account), ("CallSid", "CA0123456789abcdef0123456789abcdef")].into_iter().collect();
        let sig = signature::sign(token, Algorithm::HmacSha1, url, Payload::Form(&params));
        let body = format!("AccountSid={account}&CallSid=CA0123456789abcdef0123456789abcdef");
        let raw = RawRequest {
            method: "POST",
            url,
            content_type: Some("application/x-www-form-urlencoded"),
            body: body.as_bytes(),
            signature: Some(&sig),
            settings: None,
        };
        Webhook::from_raw(raw).unwrap().verify(&keys).map_err(|e| e.to_string())
    };
    assert_eq!(check(sub, "sub-token"), Ok(()));
    assert_eq!(check(other, "other-token"), Ok(()));
    assert_eq!(
        check(other, "sub-token"),
        Err("invalid signature: signature does not match".into()),
        "a subaccount's token does not sign for another"
    );
    assert_eq!(
        check("AC33333333333333333333333333333333", "sub-token"),
        Err("invalid signature: no auth token for this AccountSid".into())
    );
}
