//! Signs the sample events in `events/` again after one was edited:
//! `make events` (or `cargo run -p calltrack-service --example sign_events`).
//!
//! Each event is signed as Twilio would sign it with the documented test token
//! `test-auth-token-not-a-secret`, for the local base URL `http://127.0.0.1:3000`
//! (`sam local start-api`'s default), so the events work with
//! `sam local invoke -e` and `cargo lambda invoke --data-file` when the function
//! runs with `TWILIO_AUTH_TOKEN` and `PUBLIC_BASE_URL` set to those. Events whose
//! name says `bad-signature` get a wrong signature on purpose. `env.json` is no
//! event: it holds those variables for `sam local invoke --env-vars`; the
//! `api-` events are the api function's, which Twilio never signs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use calltrack_service::request::{UrlParts, public_url};
use calltrack_twilio::Params;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use serde_json::Value;

pub const TEST_TOKEN: &str = "test-auth-token-not-a-secret";
pub const LOCAL_BASE_URL: &str = "http://127.0.0.1:3000";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../events").to_owned());
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    // The api function's events carry a JWT's claims, not Twilio's signature.
    let is_api = |p: &std::path::Path| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("api-"));
    paths.retain(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("env.json") && !is_api(p));
    paths.sort();
    for path in paths {
        let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let signature = if path.file_name().is_some_and(|n| n.to_string_lossy().contains("bad-signature")) {
            "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()
        } else {
            sign(&event).map_err(|e| format!("{}: {e}", path.display()))?
        };
        event["headers"]["x-twilio-signature"] = Value::String(signature);
        std::fs::write(&path, serde_json::to_string_pretty(&event)? + "\n")?;
        println!("signed {}", path.display());
    }
    Ok(())
}

fn sign(event: &Value) -> Result<String, String> {
    let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
    let body = match event["isBase64Encoded"].as_bool() {
        Some(true) => STANDARD.decode(text("/body")).map_err(|e| e.to_string())?,
        _ => text("/body").as_bytes().to_vec(),
    };
    let url = public_url(UrlParts {
        public_base_url: Some(LOCAL_BASE_URL),
        route_key: Some(text("/routeKey")),
        stage: Some(text("/requestContext/stage")),
        domain_name: None,
        raw_path: text("/rawPath"),
        raw_query: Some(text("/rawQueryString")),
    });
    if text("/requestContext/http/method") == "GET" {
        // Twilio puts a GET's parameters in the URL, which is all it signs.
        return Ok(signature::sign(TEST_TOKEN, Algorithm::HmacSha1, &url, Payload::UrlOnly));
    }
    let params = Params::from_form(&body).map_err(|e| e.to_string())?;
    Ok(signature::sign(TEST_TOKEN, Algorithm::HmacSha1, &url, Payload::Form(&params)))
}
