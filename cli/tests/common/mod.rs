//! What the command-line tests share: the binary, tables of their own on
//! DynamoDB Local, and `calltrack serve` in the background.
#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub const TOKEN: &str = "test-auth-token-not-a-secret";
pub const NUMBER: &str = "+18005551212";

/// The tables, and the tracking number `NUMBER` of tenant `acme`, user `jane`.
pub fn add_number(storage: &[String]) {
    run_ok(&["tables", "create"], storage);
    run_ok(
        &["numbers", "add", NUMBER, "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123", "--source", "Google Ads"],
        storage,
    );
}

pub fn calltrack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_calltrack")).args(args).env_remove("TWILIO_AUTH_TOKEN").output().expect("calltrack runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Tables of this test's own on the DynamoDB Local that `make test` runs.
pub fn storage_args() -> Vec<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("run with `make test`, which starts DynamoDB Local");
    storage_args_at(&endpoint)
}

/// Tables of this test's own on the DynamoDB at `endpoint`.
pub fn storage_args_at(endpoint: &str) -> Vec<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let prefix = format!("cli-{}-{}-", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    [
        "--endpoint-url",
        endpoint,
        "--calls-table",
        &format!("{prefix}calls"),
        "--events-table",
        &format!("{prefix}events"),
        "--numbers-table",
        &format!("{prefix}numbers"),
        "--index-table",
        &format!("{prefix}index"),
    ]
    .map(str::to_owned)
    .to_vec()
}

pub fn run_ok(args: &[&str], storage: &[String]) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(storage.iter().map(String::as_str));
    let output = calltrack(&all);
    assert!(output.status.success(), "{all:?}: {}{}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `calltrack serve` on a free port, with a callback queue of its own; returns
/// it and its base URL.
pub fn serve(storage: &[String]) -> (Server, String) {
    serve_with(storage, &["--queue-name", &queue_name()])
}

/// A queue name no other test uses, for `calltrack serve --queue-name`.
pub fn queue_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("cli-{}-{}-callbacks", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A webhook queue name no other test uses, for `calltrack serve --webhook-queue-name`.
pub fn webhook_queue_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("cli-{}-{}-webhooks", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `calltrack serve` with `extra` arguments. Its queue is on the moto server
/// that `make test` runs (AWS_ENDPOINT_URL_SQS); a failed callback is tried
/// again after 1 s, doubled each time.
pub fn serve_with(storage: &[String], extra: &[&str]) -> (Server, String) {
    serve_logged(storage, extra, None)
}

/// [`serve_with`], writing its log (every request's line, with its latency)
/// to `log` when given.
pub fn serve_logged(storage: &[String], extra: &[&str], log: Option<&std::path::Path>) -> (Server, String) {
    serve_env(storage, extra, log, &[])
}

/// [`serve_logged`], with `env` in its environment.
pub fn serve_env(storage: &[String], extra: &[&str], log: Option<&std::path::Path>, env: &[(&str, &str)]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_calltrack"))
        .args(["serve", "--port", "0", "--auth-token", TOKEN])
        .args(storage)
        .args(extra)
        // A webhook queue of its own: another test's deliveries name endpoints in other tables.
        .args(["--webhook-queue-name", &webhook_queue_name()])
        .envs(env.iter().copied())
        .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
        .env("REPLAY_BACKOFF_SECONDS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).expect("serve prints its URL").to_owned();
    // Keep reading what it prints, as a terminal would.
    let mut sink: Box<dyn std::io::Write + Send> = match log {
        Some(path) => Box::new(std::fs::File::create(path).unwrap()),
        None => Box::new(std::io::sink()),
    };
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut sink));
    (Server(child), url)
}
