//! `calltrack webhooks listen`: a receiver of our signed webhooks on a local
//! port, as a CRM would run one, to watch deliveries (and their retries) by
//! hand. It checks each one with the crate's own `Verifier` and prints one
//! line for it; `--fail N` answers 503 to the first N so the retries show.

use crate::Failure;
use calltrack_webhooks::{Secret, Verified, Verifier};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Receives signed webhooks on 127.0.0.1 and prints one line each: verified, duplicate or refused
    Listen(ListenArgs),
}

#[derive(clap::Args)]
pub struct ListenArgs {
    /// The port on 127.0.0.1 (0 picks a free one, printed when ready)
    #[arg(long, default_value_t = 4000)]
    port: u16,
    /// The endpoint's secret, whsec_…
    #[arg(long, env = "CALLTRACK_WEBHOOK_SECRET", hide_env_values = true)]
    secret: Secret,
    /// Answer 503 to the first N valid deliveries, to watch the sender retry them
    #[arg(long, default_value_t = 0, value_name = "N")]
    fail: u32,
    /// Print each verified delivery's JSON body after its line
    #[arg(long)]
    print_body: bool,
}

/// What the server keeps between requests.
struct Listener {
    verifier: Verifier,
    fail: u32,
    failed: u32,
    print_body: bool,
}

pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Listen(args) => listen(args).await,
    }
}

async fn listen(args: ListenArgs) -> Result<(), Failure> {
    let socket =
        tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await.map_err(|e| Failure::from(format!("port {}: {e}", args.port)))?;
    let address = socket.local_addr().map_err(|e| Failure::from(e.to_string()))?;
    let state =
        Arc::new(Mutex::new(Listener { verifier: Verifier::new(args.secret), fail: args.fail, failed: 0, print_body: args.print_body }));
    println!("listening on http://{address}");
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = socket.accept() => {
                let Ok((connection, _)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(state.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(connection), service).await;
                });
            }
        }
    }
}

async fn handle(state: Arc<Mutex<Listener>>, request: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    if request.method() != hyper::Method::POST {
        return Ok(answer(405, "webhooks are POSTed\n"));
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|collected| collected.to_bytes()) else {
        return Ok(answer(400, "unreadable body\n"));
    };
    let now_s = time::OffsetDateTime::now_utc().unix_timestamp();
    // One lock for check and print, so that lines come out in the order decided.
    let mut listener = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok(match listener.verifier.verify(&parts.headers, &body, now_s) {
        Ok(Verified { id, duplicate: true, .. }) => {
            println!("duplicate {id} (already received; acknowledged)");
            answer(204, "")
        }
        Ok(Verified { id, .. }) if listener.failed < listener.fail => {
            listener.failed += 1;
            // Not processed, so its retry must count as new rather than as a duplicate.
            listener.verifier.forget(&id);
            println!("failing on purpose ({} of {}): 503 to {id}", listener.failed, listener.fail);
            answer(503, "failing on purpose\n")
        }
        Ok(Verified { id, .. }) => {
            println!("verified {id} {}", summary(&body));
            if listener.print_body {
                println!("{}", pretty(&body));
            }
            answer(204, "")
        }
        Err(refused) => {
            let id = parts.headers.get(calltrack_webhooks::HEADER_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            println!("refused {id}: {refused}");
            // The sender keeps the answer's start: the reason helps fix its side and tells nothing of the secret.
            answer(401, &format!("refused: {refused}\n"))
        }
    })
}

/// `<type> call <data.callSid> version <data.version>`, `-` for what is missing.
fn summary(body: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |value: Option<&serde_json::Value>| match value {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    };
    format!("{} call {} version {}", field(json.get("type")), field(json.pointer("/data/callSid")), field(json.pointer("/data/version")))
}

fn pretty(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

fn answer(status: u16, text: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}
