//! The API through `calltrack serve`, behind its play of API Gateway's JWT
//! authorizer: the test is the OIDC issuer (a discovery document and a key set
//! served by Python's http.server, tokens signed with `data/test-issuer-key.pem`).
//! Each token sees its own tenant's calls; a missing, expired, foreign or
//! forged token is refused with 401.

mod common;

use common::{NUMBER, TOKEN, add_number, queue_name, run_ok, serve_with, storage_args};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const AUDIENCE: &str = "calltrack-test";
const KID: &str = "calltrack-test-issuer";
const OTHER_NUMBER: &str = "+18005550100";

/// An OIDC issuer on a free port: its discovery document and key set.
struct Issuer {
    url: String,
    server: Child,
    _dir: TempDir,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn issuer() -> Issuer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("calltrack-issuer-{}-{port}", std::process::id()));
    std::fs::create_dir_all(dir.join(".well-known")).unwrap();
    let discovery = json!({ "issuer": url, "jwks_uri": format!("{url}/jwks.json") });
    std::fs::write(dir.join(".well-known/openid-configuration"), discovery.to_string()).unwrap();
    std::fs::write(dir.join("jwks.json"), include_str!("data/test-issuer-jwks.json")).unwrap();
    let mut server = Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Issuer { url, server, _dir: TempDir(dir) };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("the issuer did not start");
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A token of `claims`, signed with the test issuer's key (or named as another key).
fn token(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(include_bytes!("data/test-issuer-key.pem")).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn claims(issuer: &str, tenant: &str) -> Value {
    json!({
        "iss": issuer, "aud": AUDIENCE, "sub": "jane", "custom:tenant_id": tenant,
        "cognito:groups": ["admin"], "iat": now(), "exp": now() + 600, "token_use": "id",
    })
}

/// `GET url` with the token, if any: status and JSON body.
fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap())
    })
}

fn simulate(url: &str, to: &str, calls: &str) {
    let args = ["simulate", "--base-url", url, "--auth-token", TOKEN, "--to", to, "--calls", calls, "--quiet"];
    run_ok(&args, &[]);
}

#[test]
fn each_token_sees_its_own_tenants_calls_and_a_bad_token_nothing() {
    let issuer = issuer();
    let storage = storage_args();
    add_number(&storage);
    run_ok(&["numbers", "add", OTHER_NUMBER, "--tenant", "other", "--user", "bob", "--forward-to", "+14155550123"], &storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name(), "--jwt-issuer", &issuer.url, "--jwt-audience", AUDIENCE]);
    simulate(&url, NUMBER, "2");
    simulate(&url, OTHER_NUMBER, "1");

    let acme = token(&claims(&issuer.url, "acme"), KID);
    let (status, page) = get(&format!("{url}/api/calls"), Some(&acme));
    assert_eq!(status, 200, "{page}");
    let calls = page["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c["tenantId"] == "acme" && c["trackingNumber"] == NUMBER), "{page}");
    let acme_call = calls[0]["callSid"].as_str().unwrap().to_owned();
    let (status, call) = get(&format!("{url}/api/calls/{acme_call}"), Some(&acme));
    assert_eq!((status, call["callSid"].as_str()), (200, Some(acme_call.as_str())));

    let other = token(&claims(&issuer.url, "other"), KID);
    let (_, page) = get(&format!("{url}/api/calls"), Some(&other));
    assert_eq!(page["calls"].as_array().unwrap().len(), 1);
    assert_eq!(page["calls"][0]["tenantId"], "other");
    let (status, _) = get(&format!("{url}/api/calls/{acme_call}"), Some(&other));
    assert_eq!(status, 404, "another tenant's call does not exist for this token");

    // A Cognito access token names its audience in client_id, not aud.
    let mut access = claims(&issuer.url, "acme");
    access.as_object_mut().unwrap().remove("aud");
    access["client_id"] = json!(AUDIENCE);
    assert_eq!(get(&format!("{url}/api/calls"), Some(&token(&access, KID))).0, 200);

    let refused = |claims: Value, kid: &str, why: &str| {
        let (status, body) = get(&format!("{url}/api/calls"), Some(&token(&claims, kid)));
        assert_eq!((status, body["title"].as_str()), (401, Some("Unauthorized")), "{why}: {body}");
    };
    let with = |name: &str, value: Value| {
        let mut c = claims(&issuer.url, "acme");
        c[name] = value;
        c
    };
    refused(with("exp", json!(now() - 10)), KID, "expired");
    refused(with("nbf", json!(now() + 600)), KID, "not valid yet");
    refused(with("aud", json!("someone-else")), KID, "another audience");
    refused(with("iss", json!("https://issuer.example.com")), KID, "another issuer");
    refused(claims(&issuer.url, "acme"), "another-key", "a key the issuer does not have");
    let mut no_issuer = claims(&issuer.url, "acme");
    no_issuer.as_object_mut().unwrap().remove("iss");
    refused(no_issuer, KID, "no issuer named");
    // The signature's first character changed: its first six bits differ.
    let at = acme.rfind('.').unwrap() + 1;
    let flipped = if acme.as_bytes()[at] == b'A' { 'B' } else { 'A' };
    let forged = format!("{}{flipped}{}", &acme[..at], &acme[at + 1..]);
    assert_eq!(get(&format!("{url}/api/calls"), Some(&forged)).0, 401, "a forged signature");
    assert_eq!(get(&format!("{url}/api/calls"), None).0, 401, "no token");
    assert_eq!(get(&format!("{url}/api/nothing"), Some(&acme)).0, 404);
}

#[test]
fn without_an_issuer_the_api_answers_401() {
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name()]);
    let (status, body) = get(&format!("{url}/api/calls"), Some("anything"));
    assert_eq!((status, body["status"].as_u64()), (401, Some(401)));
}

/// `calltrack token`'s development tokens: trusted by `serve --dev-tokens`,
/// and by no `serve` that trusts a real issuer, or none.
#[test]
fn development_tokens_are_trusted_only_when_serve_is_told_to() {
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name(), "--dev-tokens"]);
    simulate(&url, NUMBER, "1");
    let mint = |args: &[&str]| run_ok(&[&["token"][..], args].concat(), &[]).trim().to_owned();
    let jane = mint(&["--tenant", "acme", "--user", "jane", "--role", "admin", "--ttl", "10m"]);
    let (status, stats) = get(&format!("{url}/api/stats?groupBy=leadSource"), Some(&jane));
    assert_eq!((status, stats["total"]["calls"].as_i64()), (200, Some(1)), "{stats}");
    let (status, numbers) = get(&format!("{url}/api/numbers"), Some(&jane));
    assert_eq!((status, numbers["numbers"][0]["phoneNumber"].as_str()), (200, Some(NUMBER)));
    let other = mint(&["--tenant", "other", "--user", "bob"]);
    let (status, page) = get(&format!("{url}/api/calls"), Some(&other));
    assert_eq!((status, page["calls"].as_array().map(Vec::len)), (200, Some(0)), "another tenant sees none of acme's calls");

    // The same token, to a serve without --dev-tokens, and to one that trusts a real issuer.
    let (_plain, plain_url) = serve_with(&storage, &["--queue-name", &queue_name()]);
    assert_eq!(get(&format!("{plain_url}/api/calls"), Some(&jane)).0, 401);
    let issuer = issuer();
    let (_real, real_url) = serve_with(&storage, &["--queue-name", &queue_name(), "--jwt-issuer", &issuer.url, "--jwt-audience", AUDIENCE]);
    assert_eq!(get(&format!("{real_url}/api/calls"), Some(&jane)).0, 401);
    // And a token of the test issuer is no development token.
    assert_eq!(get(&format!("{url}/api/calls"), Some(&token(&claims(&issuer.url, "acme"), KID))).0, 401);
}

/// The API's latency through `calltrack serve` (HTTP, the authorizer's check
/// of the token, the handler, DynamoDB Local), printed for BENCHMARKS.md, never
/// asserted:
///
///   scripts/with-dynamodb-local scripts/with-moto cargo test -p calltrack --test api latency -- --nocapture
#[test]
fn latency_through_serve() {
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name(), "--dev-tokens"]);
    let args = ["simulate", "--base-url", &url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", "mixed", "--calls", "120"];
    run_ok(&[&args[..], &["--concurrency", "8", "--quiet"]].concat(), &[]);
    let token = run_ok(&["token", "--tenant", "acme", "--user", "jane"], &[]).trim().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::new();
    let (_, page) = get(&format!("{url}/api/calls?limit=1"), Some(&token));
    let one = format!("/api/calls/{}", page["calls"][0]["callSid"].as_str().unwrap());
    let paths = [
        "/api/calls?limit=50",
        "/api/calls?leadSource=Google+Ads&limit=50",
        &one,
        "/api/stats?groupBy=leadSource",
        "/api/stats?groupBy=day",
    ];
    for path in paths {
        let mut times: Vec<Duration> = runtime.block_on(async {
            let mut times = Vec::new();
            for _ in 0..200 {
                let started = std::time::Instant::now();
                let response = client.get(format!("{url}{path}")).bearer_auth(&token).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200);
                response.bytes().await.unwrap();
                times.push(started.elapsed());
            }
            times
        });
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
        println!("GET {path:<42} 200 times through serve: p50 {:.1} ms, p99 {:.1} ms", at(0.5), at(0.99));
    }
}
