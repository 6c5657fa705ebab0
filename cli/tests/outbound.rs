//! Click-to-call end to end: `POST /api/calls` through `calltrack serve`, which
//! places the call with Twilio's REST API as Prism mocks it from Twilio's own
//! OpenAPI description (`scripts/with-prism`: a request the description does
//! not allow is refused); then the callbacks Twilio would send
//! (`calltrack simulate --scenario outbound`), which leave one call, listed
//! under its contact. `calltrack call` places one through the same code.

mod common;

use common::{NUMBER, TOKEN, add_number, calltrack, queue_name, run_ok, serve_env, storage_args, text};
use serde_json::{Value, json};
use std::process::Command;

/// The account of the description's examples, which Prism's answers carry.
const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The call SID of the description's example, which Prism answers a new call with.
const PLACED: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CUSTOMER: &str = "+14155550100";

/// The API key, given as the environment gives it (never a real one).
fn twilio_key() -> [(&'static str, &'static str); 3] {
    [("TWILIO_ACCOUNT_SID", ACCOUNT), ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"), ("TWILIO_API_SECRET", "not-a-secret")]
}

fn prism() -> String {
    std::env::var("TWILIO_API_BASE_URL").expect("run with `make test`, which starts the Prism mock (scripts/with-prism)")
}

fn request(method: &str, url: &str, token: &str, key: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut request = if method == "POST" { client.post(url) } else { client.get(url) }.bearer_auth(token);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap())
    })
}

#[test]
fn a_call_placed_through_the_api_is_completed_by_its_callbacks_and_listed_under_its_contact() {
    let storage = storage_args();
    add_number(&storage);
    let mut env = twilio_key().to_vec();
    let prism = prism();
    env.push(("TWILIO_API_BASE_URL", &prism));
    let (_server, url) = serve_env(&storage, &["--queue-name", &queue_name(), "--dev-tokens"], None, &env);
    let token = run_ok(&["token", "--tenant", "acme", "--user", "jane"], &[]).trim().to_owned();

    // The CRM's "Call" button on contact c-42.
    let body = json!({ "to": CUSTOMER, "contactId": "c-42" });
    let (status, placed) = request("POST", &format!("{url}/api/calls"), &token, Some("click-42"), Some(&body));
    assert_eq!(status, 201, "{placed}");
    assert_eq!((placed["callSid"].as_str(), placed["status"].as_str()), (Some(PLACED), Some("queued")));
    let (status, again) = request("POST", &format!("{url}/api/calls"), &token, Some("click-42"), Some(&body));
    assert_eq!((status, &again), (201, &placed), "a double click gets the first call back");

    // What Twilio then sends, each callback to the URL the API gave it.
    let simulate = ["simulate", "--base-url", &url, "--auth-token", TOKEN, "--to", NUMBER, "--account", ACCOUNT, "--scenario", "outbound"];
    let played = run_ok(&[&simulate[..], &["--call-sid", PLACED, "--verify"]].concat(), &storage);
    assert!(played.contains("verified 1 calls: 1 as sent, 0 lost, 0 wrong"), "{played}");

    let (status, page) = request("GET", &format!("{url}/api/calls?contactId=c-42"), &token, None, None);
    assert_eq!(status, 200, "{page}");
    let calls = page["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{page}");
    let call = &calls[0];
    assert_eq!((call["callSid"].as_str(), call["direction"].as_str()), (Some(PLACED), Some("outbound-api")));
    assert_eq!((call["userId"].as_str(), call["toNumber"].as_str()), (Some("jane"), Some(CUSTOMER)), "{call}");
    assert_eq!((call["answered"].as_bool(), call["talkSeconds"].as_u64()), (Some(true), Some(45)), "{call}");
    assert!(call["recording"]["sid"].is_string(), "{call}");
    assert_eq!(call["qualified"], false, "outbound: no lead by default: {call}");
}

#[test]
fn calltrack_call_places_a_call_through_the_same_code() {
    let storage = storage_args();
    add_number(&storage);
    let args = [
        "call",
        "--to",
        CUSTOMER,
        "--tenant",
        "acme",
        "--user",
        "jane",
        "--contact",
        "c-7",
        "--public-base-url",
        "https://calls.example.com",
    ];
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_calltrack"))
            .args(args)
            .args(&storage)
            .envs(twilio_key())
            .env("TWILIO_API_BASE_URL", prism())
            .output()
            .expect("calltrack runs")
    };
    let output = run(&args);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), format!("placed {PLACED} from {NUMBER} to {CUSTOMER} for jane; Twilio rings the agent first"));
    let listed: Value = serde_json::from_str(&run_ok(&["calls", "list", "--tenant", "acme", "--json"], &storage)).unwrap();
    assert_eq!((listed[0]["callSid"].as_str(), listed[0]["crm"]["contactId"].as_str()), (Some(PLACED), Some("c-7")), "{listed}");

    // A number the tenant does not have is refused, naming the field; without a key, nothing is placed.
    let output = run(&[&args[..], &["--from", "+18005550199"]].concat());
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("trackingNumber: +18005550199 is not one of this tenant's tracking numbers"),
        "{}",
        text(&output.stderr)
    );
    let output = calltrack(&[&args[..], &storage.iter().map(String::as_str).collect::<Vec<_>>()].concat());
    assert!(text(&output.stderr).contains("no Twilio API key"), "{}", text(&output.stderr));
}
