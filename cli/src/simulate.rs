//! `calltrack simulate`: plays, signed, the webhooks Twilio sends for realistic
//! calls (answer, parent and child status callbacks, dial-result, recording),
//! in Twilio's order or shuffled, with duplicates, many calls at once, and
//! redelivers what failed as Twilio does. With `--verify` it then reads every
//! call back from storage and checks it against what its scenario expects. The
//! load generator, and what `smoke` plays. What each call sends and
//! should store is `scenario`'s; this file only delivers it.

use crate::scenario::{ACCOUNT, Call, Placed, Scenario, Sids, Webhook};
use crate::signature::signing_secret;
use crate::{Failure, storage, verify};
use calltrack_core::ports::{LookUpNumbers, ReadCalls};
use calltrack_core::view::Scope;
use calltrack_twilio::Params;
use calltrack_twilio::fields::{AccountSid, CallSid, Field, PhoneNumber};
use calltrack_twilio::signature::{self, Algorithm, Payload, SIGNATURE_HEADER};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the webhooks go, how they are signed, and the call's numbers: what
/// `simulate` and `smoke` share.
#[derive(clap::Args)]
pub struct Target {
    /// Where the webhooks are, e.g. http://127.0.0.1:3000 or the stack's API URL
    #[arg(long)]
    base_url: String,
    /// The base URL to sign for, when the server checks signatures against another:
    /// its PUBLIC_BASE_URL, e.g. an ngrok URL. Default: $PUBLIC_BASE_URL when set
    /// (as for `serve`), else --base-url
    #[arg(long, env = "PUBLIC_BASE_URL")]
    signed_base_url: Option<String>,
    /// The server's auth token. A list as `serve` takes it (`new,old`, `AC…=token`)
    /// signs with its first token, as Twilio signs with the primary
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    auth_token: String,
    /// The tracking number called, E.164
    #[arg(long)]
    pub to: String,
    /// The caller, E.164
    #[arg(long, default_value = "+15005550006")]
    pub from: String,
    /// The Twilio account (AC + 32 hex digits) the calls are in: a tracking
    /// number bound to an account (`numbers add --account`) takes only its own
    /// [default: AC00000000000000000000000000000000; for `smoke`, the number's]
    #[arg(long)]
    pub account: Option<String>,
    #[command(flatten)]
    pub storage: storage::Storage,
}

impl Target {
    /// The account the calls are in.
    pub fn account(&self) -> &str {
        self.account.as_deref().unwrap_or(ACCOUNT)
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[arg(long, value_enum, default_value_t = Scenario::Answered)]
    scenario: Scenario,
    /// Deliver each call's webhooks in a random order
    #[arg(long)]
    shuffle: bool,
    /// Deliver every webhook this many times
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    duplicates: u32,
    /// How many calls
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    calls: u32,
    /// How many calls at once
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    /// Redeliver a webhook that got a 5xx or no answer up to this many times,
    /// waiting 0.5 s, 1 s, 2 s, then 4 s between tries (Twilio's `#rc=` override)
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    retries: u32,
    /// Afterwards, read every call from DynamoDB (the storage options below) and
    /// check it against what was sent; fails on any lost or wrong call
    #[arg(long)]
    verify: bool,
    /// With --verify, keep reading for up to this many seconds while calls are
    /// lost or wrong: callbacks that met a storage outage are applied from the
    /// queue once storage is back
    #[arg(long, default_value_t = 0)]
    settle_seconds: u64,
    /// Print only the summary
    #[arg(long)]
    quiet: bool,
    /// The call placed with `calltrack call` or POST /api/calls that
    /// `--scenario outbound` completes (it is read from storage)
    #[arg(long)]
    call_sid: Option<String>,
}

impl Args {
    /// One call of `scenario` to `target`, in Twilio's order, redelivered as
    /// Twilio would, then verified: the smoke test's plan.
    pub fn one_call(target: Target, scenario: Scenario, retries: u32, settle_seconds: u64) -> Args {
        Args {
            target,
            scenario,
            shuffle: false,
            duplicates: 1,
            calls: 1,
            concurrency: 1,
            retries,
            verify: true,
            settle_seconds,
            quiet: false,
            call_sid: None,
        }
    }
}

pub async fn run(args: Args) -> Result<(), Failure> {
    let random = RandomState::new();
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    if args.scenario == Scenario::Outbound || args.call_sid.is_some() {
        let call = Call::placed(&placed(&args).await?, args.target.account());
        return play(args, vec![call], &random, seed).await;
    }
    let calls: Vec<Call> = (0..args.calls)
        .map(|n| {
            Call::new(args.scenario.of_call(n), Sids::new(&random, seed, n), args.target.account(), &args.target.from, &args.target.to)
        })
        .collect();
    play(args, calls, &random, seed).await
}

/// The call `--call-sid` names, as placed and stored: what `--scenario
/// outbound` needs, checked against `--to` (its tracking number).
async fn placed(args: &Args) -> Result<Placed, Failure> {
    let (Scenario::Outbound, Some(call_sid), 1) = (args.scenario, &args.call_sid, args.calls) else {
        return Err(Failure::from("--scenario outbound and --call-sid go together, for one call".to_owned()));
    };
    let sid = CallSid::parse("--call-sid", call_sid)?;
    let storage = &args.target.storage;
    let store = storage.store().await?;
    let Some(call) = store.call(&Scope::Operator, &sid).await.map_err(|e| storage.failure(e))? else {
        return Err(Failure::from(format!("no call {sid} is stored: place it first (`calltrack call`, POST /api/calls)")));
    };
    let call = call.summary;
    let (Some(tracking_number), Some(customer), Some(user_id)) = (call.tracking_number, call.to_number, call.user_id) else {
        return Err(Failure::from(format!("call {sid} was not placed through the API: it has no tracking number, customer or user")));
    };
    if tracking_number.as_str() != args.target.to {
        return Err(Failure::from(format!("call {sid} was placed from {tracking_number}, not --to {}", args.target.to)));
    }
    let number = store.tracking_number(&tracking_number).await.map_err(|e| storage.failure(e))?;
    let agent = number.map_or_else(|| customer.clone(), |n| n.forward_to);
    Ok(Placed { call_sid: sid.to_string(), tracking_number, agent, customer, user_id, crm: call.crm })
}

/// Delivers `calls`' webhooks as `args` says, prints what they got and a
/// summary, and with `--verify` checks storage.
pub async fn play(args: Args, calls: Vec<Call>, random: &RandomState, seed: u128) -> Result<(), Failure> {
    PhoneNumber::e164("--to", &args.target.to)?;
    PhoneNumber::e164("--from", &args.target.from)?;
    AccountSid::parse("--account", args.target.account())?;
    let base = args.target.base_url.trim_end_matches('/').to_owned();
    let mut args = args;
    args.target.auth_token = signing_secret(&args.target.auth_token, Algorithm::HmacSha1)?;
    args.target.signed_base_url = args.target.signed_base_url.filter(|url| !url.trim().is_empty());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().map_err(|e| Failure::from(e.to_string()))?;
    let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
    let args = Arc::new(args);
    let started = Instant::now();

    let mut tasks = Vec::new();
    let mut expected = Vec::new();
    for (n, call) in calls.into_iter().enumerate() {
        expected.push(call.expected);
        let mut webhooks: Vec<Webhook> = call.webhooks.into_iter().flat_map(|w| std::iter::repeat_n(w, args.duplicates as usize)).collect();
        if args.shuffle {
            shuffle(&mut webhooks, random, (seed, n));
        }
        let (client, base, args, limit) = (client.clone(), base.clone(), args.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.expect("never closed");
            let mut results = Vec::new();
            for webhook in webhooks {
                results.push(deliver(&client, &base, &args, &webhook).await);
            }
            results
        }));
    }
    let mut summary = Summary::default();
    for task in tasks {
        for result in task.await.map_err(|e| Failure::from(e.to_string()))? {
            summary.add(result);
        }
    }
    summary.print(started.elapsed());
    if summary.failures > 0 {
        let cause = summary.cause.as_deref().map(|c| format!("; the first: {c}")).unwrap_or_default();
        return Err(Failure::from(format!("{} of {} webhooks failed{cause}", summary.failures, summary.sent)));
    }
    if args.verify {
        let settle = Duration::from_secs(args.settle_seconds);
        let target = &args.target;
        verify::run(&target.storage, &target.to, &target.from, &expected, args.concurrency, settle).await?;
    }
    Ok(())
}

/// One delivery's outcome.
struct Delivered {
    path: &'static str,
    /// The last try's status; `None` when it got no answer.
    status: Option<u16>,
    /// The last try's latency.
    latency: Duration,
    attempts: u32,
    /// Why it failed, in one line with what to check; `None` when it did not.
    cause: Option<String>,
}

async fn deliver(client: &reqwest::Client, base: &str, args: &Args, webhook: &Webhook) -> Delivered {
    let query = if webhook.query.is_empty() { String::new() } else { format!("?{}", webhook.query) };
    let url = format!("{base}{}{query}", webhook.route.path());
    let signed_url = match &args.target.signed_base_url {
        Some(signed) => format!("{}{}{query}", signed.trim_end_matches('/'), webhook.route.path()),
        None => url.clone(),
    };
    let params: Params = webhook.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = signature::sign(&args.target.auth_token, Algorithm::HmacSha1, &signed_url, Payload::Form(&params));
    let body: Vec<String> = webhook.params.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect();
    let body = body.join("&");
    let mut attempts = 0;
    let mut cause = None;
    let (status, answer, latency) = loop {
        attempts += 1;
        let started = Instant::now();
        let sent = client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header(SIGNATURE_HEADER, &signature)
            .header("i-twilio-idempotency-token", format!("{}-{}", webhook.call_sid, webhook.route.path()))
            .body(body.clone())
            .send()
            .await;
        let latency = started.elapsed();
        let (status, answer) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                (Some(status), summarise(&text))
            }
            Err(err) => {
                let why = no_answer(&err);
                cause = Some(format!("no answer from {url}: {why}"));
                (None, why)
            }
        };
        let failed = status.is_none_or(|s| s >= 500);
        if !failed || attempts > args.retries {
            break (status, answer, latency);
        }
        tokio::time::sleep(Duration::from_millis(500 << (attempts - 1).min(3))).await;
    };
    if !args.quiet {
        let shown = status.map_or("ERR".to_owned(), |s| s.to_string());
        let what = webhook
            .params
            .iter()
            .find(|(k, _)| matches!(*k, "CallStatus" | "DialCallStatus" | "RecordingStatus"))
            .map_or("", |(_, v)| v.as_str());
        let leg = if webhook.params.iter().any(|(k, _)| *k == "ParentCallSid") { " (child)" } else { "" };
        println!(
            "{} {:<30} {:<22} {shown} {:>6.1} ms  {answer}{}",
            webhook.call_sid,
            webhook.route.path(),
            format!("{what}{leg}"),
            latency.as_secs_f64() * 1000.0,
            if attempts > 1 { format!(" (try {attempts})") } else { String::new() }
        );
    }
    let cause = match status {
        Some(s) if (200..300).contains(&s) => None,
        Some(s) => Some(refused(s, webhook.route.path(), &answer, args)),
        None => cause,
    };
    Delivered { path: webhook.route.path(), status, latency, attempts, cause }
}

/// Why a request got no answer, in a few words: the innermost cause.
fn no_answer(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "no answer in 20 s; is the server at --base-url up and not stuck?".to_owned();
    }
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        chain = inner.to_string();
        source = inner.source();
    }
    if chain.contains("Connection refused") || chain.contains("connection refused") {
        "connection refused; is the server running at --base-url (`calltrack serve` prints its URL)?".to_owned()
    } else {
        format!("{chain}; is --base-url right?")
    }
}

/// What a non-2xx answer means, and what to check.
fn refused(status: u16, path: &str, answer: &str, args: &Args) -> String {
    let signed = args.target.signed_base_url.as_deref().unwrap_or(&args.target.base_url);
    match status {
        403 => format!(
            "403 from {path}: the signature was refused; is --auth-token the server's token, and is {signed}, the URL signed for, its PUBLIC_BASE_URL (see --signed-base-url)?"
        ),
        404 => format!("404 from {path}: no such route; is --base-url the API's base URL, without /api/...?"),
        405 => format!("405 from {path}: the route refused POST; is --base-url this stack's API?"),
        s if s >= 500 => format!("{s} from {path}: the server failed ({answer}); see its log"),
        s => format!("{s} from {path}: {answer}"),
    }
}

/// A TwiML answer in a few words: its verbs.
fn summarise(body: &str) -> String {
    let verbs: Vec<&str> =
        ["Gather", "Dial", "Say", "Record", "Hangup", "Reject"].into_iter().filter(|v| body.contains(&format!("<{v}"))).collect();
    if verbs.is_empty() { body.trim().chars().take(60).collect() } else { verbs.join("+") }
}

#[derive(Default)]
struct Summary {
    sent: usize,
    failures: usize,
    /// The first failure's cause.
    cause: Option<String>,
    redelivered: usize,
    statuses: BTreeMap<String, usize>,
    latencies: BTreeMap<&'static str, Vec<Duration>>,
}

impl Summary {
    fn add(&mut self, delivered: Delivered) {
        self.sent += 1;
        self.redelivered += delivered.attempts as usize - 1;
        let status = delivered.status.map_or("error".to_owned(), |s| s.to_string());
        if !delivered.status.is_some_and(|s| (200..300).contains(&s)) {
            self.failures += 1;
        }
        if self.cause.is_none() {
            self.cause = delivered.cause;
        }
        *self.statuses.entry(status).or_default() += 1;
        self.latencies.entry(delivered.path).or_default().push(delivered.latency);
    }

    fn print(&mut self, elapsed: Duration) {
        let rate = self.sent as f64 / elapsed.as_secs_f64().max(1e-9);
        let statuses: Vec<String> = self.statuses.iter().map(|(s, n)| format!("{n}×{s}")).collect();
        let redelivered = if self.redelivered > 0 { format!(", after {} redeliveries", self.redelivered) } else { String::new() };
        println!("\n{} webhooks in {:.2} s ({rate:.0}/s): {}{redelivered}", self.sent, elapsed.as_secs_f64(), statuses.join(", "));
        for (route, latencies) in &mut self.latencies {
            latencies.sort();
            let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
            println!("  {route:<30} {:>6} requests  p50 {:>7.1} ms  p99 {:>7.1} ms", latencies.len(), at(0.5), at(0.99));
        }
    }
}

/// Fisher-Yates with std's randomly keyed hasher as the source.
fn shuffle<T>(items: &mut [T], random: &RandomState, salt: impl std::hash::Hash + Copy) {
    for i in (1..items.len()).rev() {
        let j = (random.hash_one((salt, i)) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
