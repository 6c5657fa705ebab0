//! Warm invocations: the CPU and the time one event costs a function that is already running,
//! the AWS SDK, the Lambda runtime and the logs included, beside a Node.js peer doing the seed's
//! job (BENCHMARKS.md, "Warm invocations"). The targets: at most 300 µs of CPU per invocation for
//! the status and recording callbacks and for an answer with a warm number cache, at least 8×
//! less than the Node peer, and a median wall time below the peer's.
//!
//! ```text
//! make warm        # builds the release functions and calltrack, installs the peer, runs this
//! scripts/with-dynamodb-local cargo run -p calltrack --example warm [-- DIR]
//! ```
//!
//! DIR (default: target/release, in $CARGO_TARGET_DIR if set) holds the release `answer`,
//! `status` and `recording` (or `answer/bootstrap`, ...). Settings, from the environment (each
//! also a flag, `--help`): WARM_INVOCATIONS (2000 counted per path), WARM_WARMUP (200 before
//! them, not counted), WARM_FUNCTIONS ("answer status recording"), WARM_PEER=0 (leave the Node
//! peer out), NODE (its `node`), CALLTRACK (as for cold_start).
//!
//! Each path, in this order, for our function and then for the peer: one process of the
//! function, spawned with a Lambda-like environment, faces a fake Runtime API on loopback that
//! hands it WARMUP + INVOCATIONS events one after another, each as soon as the function asks
//! for the next, and checks each response's statusCode. The paths:
//! - answer, new call: an answer webhook for a new call (a new CallSid and caller each time) to
//!   the demo number, whose owner the function has cached after the first;
//! - answer, duplicate: Twilio's retry of an answer already taken (the first call's, again);
//! - answer, forged: a request whose signature is wrong, refused (403) before any storage: the
//!   floor, what the runtime, the check and the log cost;
//! - status, new callback: the parent's `completed` for each call that answer took (so the call
//!   was written last by another function, as it is when deployed);
//! - status, duplicate: the first call's `completed`, again;
//! - recording, new callback / duplicate: the same, for the recording callback.
//!
//! Measured over the counted invocations only: the process's CPU time (user + system, all its
//! threads, from /proc/PID/stat: from the `GET /next` that asks for the first counted event to
//! the one after the last), divided by their number; each invocation's wall time, from the
//! event handed out to its response received; and the DynamoDB requests the process made, seen
//! by a relay in front of DynamoDB Local. The Runtime API answers each request in one write with
//! TCP_NODELAY on, so that no delayed-ACK stall is taken for the function's time.
//!
//! The events are the sample events in events/ with the CallSid, the caller and the
//! RecordingSid changed, signed again with the documented test token (calltrack-twilio's signer,
//! which Twilio's own vectors check).
//!
//! Out: the table on stdout, progress on stderr; the processes' logs and the figures in
//! .tools/warm/. Exits 1 when an invocation failed, 2 when nothing could be measured.

mod lambda_harness;

use std::convert::Infallible;
use std::fs::{self, File};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use calltrack_twilio::Params;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use clap::Parser;
use clap::builder::BoolishValueParser;
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use lambda_harness::{
    PREFIX, PUBLIC_BASE_URL, Reply, Server, Side, TWILIO_AUTH_TOKEN, create_tables_and_demo_number, dynamodb_endpoint, exit_code,
    function_binary, function_env, invocation, json_reply, read_event, relay, resolve, root, round, target_dir,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// The targets, per warm invocation (issue 16).
const CPU_TARGET_US: f64 = 300.0;
const NODE_RATIO_TARGET: f64 = 8.0;

/// One path through a function: the sample event it starts from, and what each invocation is.
struct Scenario {
    function: &'static str,
    name: &'static str,
    event: &'static str,
    expect: i64,
    each: Each,
}

#[derive(Clone, Copy, PartialEq)]
enum Each {
    /// A call of its own, signed.
    NewCall,
    /// The first call again, signed: a redelivery.
    SameCall,
    /// The event as it is, its wrong signature kept.
    Forged,
}

/// In the order they run: the callbacks' new paths take the calls the answer path made.
const PATHS: [Scenario; 7] = [
    Scenario { function: "answer", name: "new call", event: "events/answer-known-number.json", expect: 200, each: Each::NewCall },
    Scenario { function: "answer", name: "duplicate", event: "events/answer-known-number.json", expect: 200, each: Each::SameCall },
    // No storage at all: what the runtime, the signature check and the log cost alone.
    Scenario { function: "answer", name: "forged", event: "events/answer-bad-signature.json", expect: 403, each: Each::Forged },
    Scenario { function: "status", name: "new callback", event: "events/status-parent-completed.json", expect: 204, each: Each::NewCall },
    Scenario { function: "status", name: "duplicate", event: "events/status-parent-completed.json", expect: 204, each: Each::SameCall },
    Scenario { function: "recording", name: "new callback", event: "events/recording-completed.json", expect: 204, each: Each::NewCall },
    Scenario { function: "recording", name: "duplicate", event: "events/recording-completed.json", expect: 204, each: Each::SameCall },
];

/// What the sample events hold, and what each scripted call puts in its place.
const EVENT_CALL_SID: &str = "CA7c1e3f0a9b2d4c6e8f0a1b2c3d4e5f60";
const EVENT_RECORDING_SID: &str = "RE5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d";
const EVENT_CALLER: &str = "%2B12125550199";

#[derive(Parser)]
#[command(about = "CPU and time per warm invocation of the Lambda functions, beside a Node.js peer (BENCHMARKS.md)")]
struct Settings {
    /// Where the release binaries are: DIR/answer or DIR/answer/bootstrap, and so on
    /// [default: target/release, in $CARGO_TARGET_DIR if set]
    dir: Option<PathBuf>,
    /// Invocations per path that count
    #[arg(long, env = "WARM_INVOCATIONS", default_value_t = 2000)]
    invocations: usize,
    /// Invocations per path before those, not counted
    #[arg(long, env = "WARM_WARMUP", default_value_t = 200)]
    warmup: usize,
    /// The functions whose paths run, separated by spaces. The callbacks' new paths take the
    /// calls that answer's made: without answer, they are callbacks for calls never answered
    #[arg(long, env = "WARM_FUNCTIONS", default_value = "answer status recording")]
    functions: String,
    /// Run the Node.js peer (shared/service/benches/node-peer, `npm ci` there first) beside ours
    #[arg(long, env = "WARM_PEER", value_parser = BoolishValueParser::new(), default_value = "1", action = clap::ArgAction::Set)]
    peer: bool,
    /// The `node` that runs the peer
    #[arg(long, env = "NODE", default_value = "node")]
    node: PathBuf,
    /// Seconds one path (warm-up included) may take before it fails
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
}

/// Who serves a path: our function, or the Node peer doing the same webhook.
#[derive(Clone, Copy, PartialEq)]
enum Peer {
    Calltrack,
    Node,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Calltrack => "calltrack",
            Peer::Node => "node",
        }
    }

    /// Tells this peer's calls apart from the other's, and from an earlier run's.
    fn call_tag(self) -> u32 {
        (std::process::id() << 1) | u32::from(self == Peer::Node)
    }
}

fn main() -> ExitCode {
    exit_code("warm", measure_all(&Settings::parse()))
}

fn measure_all(settings: &Settings) -> Result<bool, String> {
    let root = root();
    let endpoint = dynamodb_endpoint("warm")?;
    let upstream = resolve(&endpoint)?;
    let bin_dir = settings.dir.clone().unwrap_or_else(|| target_dir(&root).join("release"));
    let peer_dir = root.join("shared/service/benches/node-peer");
    if settings.peer && !peer_dir.join("node_modules").is_dir() {
        return Err(format!("the Node peer is not installed: run `npm ci` in {} (or set WARM_PEER=0)", peer_dir.display()));
    }
    let mut peers = vec![Peer::Calltrack];
    if settings.peer {
        peers.push(Peer::Node);
    }
    create_tables_and_demo_number(&root, &endpoint)?;
    let out = root.join(".tools/warm");
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    // One thread, for the same reason as cold_start's: not to compete with the function.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;

    let mut results = Vec::new();
    let wanted: Vec<&str> = settings.functions.split_whitespace().collect();
    if let Some(unknown) = wanted.iter().find(|name| !PATHS.iter().any(|path| path.function == **name)) {
        return Err(format!("unknown function {unknown}: WARM_FUNCTIONS takes answer, status, recording"));
    }
    for path in PATHS.iter().filter(|path| wanted.contains(&path.function)) {
        let template = read_event(&root, path.event)?;
        for &peer in &peers {
            let command = match peer {
                Peer::Calltrack => Command::new(function_binary(&bin_dir, path.function)?),
                Peer::Node => {
                    let mut node = Command::new(&settings.node);
                    node.arg(peer_dir.join("peer.mjs")).arg(path.function);
                    node
                }
            };
            let events = (0..settings.warmup + settings.invocations)
                .map(|i| match path.each {
                    Each::NewCall => scripted(&template, peer.call_tag(), i),
                    Each::SameCall => scripted(&template, peer.call_tag(), 0),
                    Each::Forged => Ok(Bytes::from(template.to_string())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            eprintln!("== {} {}: {} ({} + {} invocations)", path.function, path.name, peer.name(), settings.warmup, settings.invocations);
            let log = out.join(format!("{}-{}-{}.log", path.function, path.name.replace(' ', "-"), peer.name()));
            let result = runtime.block_on(measure(path, peer, command, events, settings, upstream, &log))?;
            results.push(result);
        }
    }

    let json = Value::Array(results.iter().map(Measured::to_json).collect());
    let file = out.join("results.json");
    fs::write(&file, serde_json::to_string_pretty(&json).expect("JSON values serialize") + "\n")
        .map_err(|e| format!("{}: {e}", file.display()))?;
    print_table(&results, settings);
    eprintln!("logs and figures: .tools/warm/");
    Ok(results.iter().all(|r| r.failure.is_none()))
}

/// The sample event for call `call` of a run: its CallSid, caller and RecordingSid replaced,
/// signed again.
fn scripted(template: &Value, tag: u32, call: usize) -> Result<Bytes, String> {
    let mut event = template.clone();
    let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
    let body = STANDARD.decode(text("/body")).map_err(|e| format!("the event's body is not base64: {e}"))?;
    let body = String::from_utf8(body).map_err(|e| e.to_string())?;
    let body = body
        .replace(EVENT_CALL_SID, &format!("CA{tag:08x}{call:024x}"))
        .replace(EVENT_RECORDING_SID, &format!("RE{tag:08x}{call:024x}"))
        .replace(EVENT_CALLER, &format!("%2B1212{:07}", call % 10_000_000));
    let params = Params::from_form(body.as_bytes()).map_err(|e| e.to_string())?;
    let url = format!("{PUBLIC_BASE_URL}{}", text("/rawPath"));
    let signature = signature::sign(TWILIO_AUTH_TOKEN, Algorithm::HmacSha1, &url, Payload::Form(&params));
    event["body"] = Value::String(STANDARD.encode(body));
    event["headers"]["x-twilio-signature"] = Value::String(signature);
    Ok(Bytes::from(event.to_string()))
}

/// One path's run, as the Runtime API and the relay saw it.
struct Script {
    events: Vec<Bytes>,
    warmup: usize,
    expect: i64,
    pid: OnceLock<i32>,
    requests: AtomicU64,
    state: Mutex<State>,
    /// The last counted response came, or a failure.
    finished: Notify,
}

#[derive(Default)]
struct State {
    /// The next event to hand out.
    next: usize,
    handed_at: Vec<Option<Instant>>,
    /// Each counted invocation's wall time, in ms.
    walls: Vec<f64>,
    /// CPU ticks and DynamoDB requests when the first counted event was asked for, and after
    /// the last.
    start: Option<(u64, u64)>,
    end: Option<(u64, u64)>,
    failure: Option<String>,
}

/// One path served by one peer: the figures of its counted invocations.
struct Measured {
    function: &'static str,
    path: &'static str,
    peer: Peer,
    invocations: usize,
    cpu_us: Option<f64>,
    wall_p50_ms: Option<f64>,
    wall_p99_ms: Option<f64>,
    requests: Option<f64>,
    failure: Option<String>,
}

async fn measure(
    path: &Scenario,
    peer: Peer,
    mut command: Command,
    events: Vec<Bytes>,
    settings: &Settings,
    upstream: SocketAddr,
    log: &Path,
) -> Result<Measured, String> {
    let total = events.len();
    let script = Arc::new(Script {
        events,
        warmup: settings.warmup,
        expect: path.expect,
        pid: OnceLock::new(),
        requests: AtomicU64::new(0),
        state: Mutex::new(State { handed_at: vec![None; total], ..State::default() }),
        finished: Notify::new(),
    });
    let for_api = script.clone();
    let api = Server::start(move |stream| runtime_api(stream, for_api.clone())).await.map_err(|e| e.to_string())?;
    let for_relay = script.clone();
    let relay = Server::start(move |stream| {
        let script = for_relay.clone();
        // Each turn of the function's is one request.
        relay(stream, upstream, move |side, _| {
            if side == Side::Function {
                script.requests.fetch_add(1, Ordering::Relaxed);
            }
        })
    })
    .await
    .map_err(|e| e.to_string())?;
    let log = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    // The table names the functions use when none is set, for the peer, which has no defaults.
    let tables = calltrack_service::Settings::default().tables;
    let default_tables = [("CALLS_TABLE", tables.calls), ("CALL_EVENTS_TABLE", tables.events), ("TRACKING_NUMBERS_TABLE", tables.numbers)];
    command
        .env_clear()
        .envs(default_tables)
        .envs(function_env(path.function))
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{}", relay.addr))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    let mut child = command.spawn().map_err(|e| format!("{} {}: cannot spawn ({e})", path.function, peer.name()))?;
    script.pid.set(i32::try_from(child.id()).expect("pids fit in i32")).expect("set once");

    let timeout = Duration::from_secs_f64(settings.timeout);
    let finished = tokio::time::timeout(timeout, script.finished.notified()).await.is_ok();
    let exited = child.try_wait().ok().flatten();
    let _ = child.kill();
    let _ = child.wait();
    drop((api, relay));

    let mut state = std::mem::take(&mut *script.state.lock().unwrap());
    if !finished {
        state
            .failure
            .get_or_insert_with(|| format!("not done within {} s ({} of {total} events handed out)", settings.timeout, state.next));
    }
    if let Some(status) = exited {
        state.failure.get_or_insert_with(|| format!("the process ended ({status})"));
    }
    let mut walls = std::mem::take(&mut state.walls);
    walls.sort_by(f64::total_cmp);
    let rank = |q: f64| walls.get(((q * walls.len() as f64).ceil() as usize).saturating_sub(1)).map(|&ms| round(ms, 3));
    let counted = (total - settings.warmup) as f64;
    let (cpu_us, requests) = match (state.start, state.end) {
        (Some((cpu0, requests0)), Some((cpu1, requests1))) => {
            let tick_us = 1e6 / clock_ticks_per_second();
            (Some(round((cpu1 - cpu0) as f64 * tick_us / counted, 1)), Some(round((requests1 - requests0) as f64 / counted, 2)))
        }
        _ => (None, None),
    };
    let measured = Measured {
        function: path.function,
        path: path.name,
        peer,
        invocations: total - settings.warmup,
        cpu_us,
        wall_p50_ms: rank(0.5),
        wall_p99_ms: rank(0.99),
        requests,
        failure: state.failure,
    };
    if let Some(failure) = &measured.failure {
        eprintln!("{} {} ({}): {failure}", path.function, path.name, peer.name());
    }
    Ok(measured)
}

async fn runtime_api(stream: TcpStream, script: Arc<Script>) {
    // Each answer goes out in one write; without NODELAY a small one could wait for an ACK.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| answer(script.clone(), request));
    let _ = http1::Builder::new().writev(false).serve_connection(TokioIo::new(stream), service).await;
}

/// `GET /next` hands out the next event, or parks the function once all are out; a POST takes
/// a response (its wall time, its statusCode) or an error.
async fn answer(script: Arc<Script>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_owned();
    let route = path.strip_prefix(PREFIX).unwrap_or_default();
    if request.method() == Method::GET && route == "/invocation/next" {
        return Ok(next(&script).await);
    }
    if request.method() != Method::POST {
        return Ok(json_reply(StatusCode::NOT_FOUND, json!({ "errorMessage": format!("no such path {path}") })));
    }
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let at = Instant::now();
    let mut state = script.state.lock().unwrap();
    let invocation = route.strip_prefix("/invocation/").and_then(|rest| rest.split_once('/'));
    match invocation.and_then(|(id, what)| Some((id.parse::<usize>().ok()?, what))) {
        Some((i, "response")) if i < script.events.len() => {
            let status = serde_json::from_slice::<Value>(&body).ok().and_then(|r| r.get("statusCode").and_then(Value::as_i64));
            if status != Some(script.expect) {
                let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                state.failure.get_or_insert_with(|| format!("event {i}: statusCode {status:?}, expected {}: {text}", script.expect));
                script.finished.notify_one();
            }
            if let (true, Some(handed)) = (i >= script.warmup, state.handed_at[i]) {
                state.walls.push(at.duration_since(handed).as_secs_f64() * 1e3);
            }
        }
        _ => {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
            state.failure.get_or_insert_with(|| format!("POST {route}: {text}"));
            script.finished.notify_one();
        }
    }
    Ok(json_reply(StatusCode::ACCEPTED, json!({ "status": "OK" })))
}

async fn next(script: &Script) -> Reply {
    let (i, total) = {
        let mut state = script.state.lock().unwrap();
        let i = state.next;
        let total = script.events.len();
        if i == script.warmup || i == total {
            let pid = *script.pid.get().expect("set before any request can come");
            let mark = (cpu_ticks(pid), script.requests.load(Ordering::Relaxed));
            if i == script.warmup {
                state.start = Some(mark);
            }
            if i == total {
                state.end = Some(mark);
            }
        }
        if i < total {
            state.next += 1;
            state.handed_at[i] = Some(Instant::now());
        }
        (i, total)
    };
    if i == total {
        script.finished.notify_one();
        // Parked, as Lambda parks an idle function, until the run ends and this server with it.
        return std::future::pending().await;
    }
    invocation(&i.to_string(), script.events[i].clone())
}

/// User + system CPU time of the process, all its threads, in clock ticks (/proc/PID/stat).
fn cpu_ticks(pid: i32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(14) + field(15)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system; it touches no memory of ours.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) as f64 }
}

impl Measured {
    fn to_json(&self) -> Value {
        json!({
            "function": self.function,
            "path": self.path,
            "peer": self.peer.name(),
            "invocations": self.invocations,
            "cpu_us_per_invocation": self.cpu_us,
            "wall_p50_ms": self.wall_p50_ms,
            "wall_p99_ms": self.wall_p99_ms,
            "dynamodb_requests_per_invocation": self.requests,
            "failure": self.failure,
        })
    }
}

/// One line per path and peer, the ratios to the peer, and the verdict on the targets.
fn print_table(results: &[Measured], settings: &Settings) {
    let show = |value: Option<f64>, digits: usize| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"));
    println!();
    println!(
        "warm invocations: {} counted per path after {} not counted; CPU is user + system of the whole process",
        settings.invocations, settings.warmup
    );
    println!(
        "{:<10} {:<13} {:<10} {:>12} {:>12} {:>12} {:>10}  {:>9} {:>10}",
        "function", "path", "peer", "CPU µs/inv", "wall p50 ms", "wall p99 ms", "DynamoDB", "CPU ×", "wall p50 ×"
    );
    let mut verdicts = Vec::new();
    for result in results {
        let ours = results.iter().find(|r| r.function == result.function && r.path == result.path && r.peer == Peer::Calltrack);
        let ratio = |get: fn(&Measured) -> Option<f64>| match (result.peer, ours.and_then(get), get(result)) {
            (Peer::Node, Some(ours), Some(theirs)) if ours > 0.0 => Some(theirs / ours),
            _ => None,
        };
        let (cpu_ratio, wall_ratio) = (ratio(|r| r.cpu_us), ratio(|r| r.wall_p50_ms));
        println!(
            "{:<10} {:<13} {:<10} {:>12} {:>12} {:>12} {:>10}  {:>9} {:>10}{}",
            result.function,
            result.path,
            result.peer.name(),
            show(result.cpu_us, 1),
            show(result.wall_p50_ms, 3),
            show(result.wall_p99_ms, 3),
            show(result.requests, 2),
            show(cpu_ratio, 1),
            show(wall_ratio, 2),
            if result.failure.is_some() { "  FAILED" } else { "" }
        );
        match result.peer {
            Peer::Calltrack => verdicts.push((result, result.cpu_us.is_some_and(|us| us <= CPU_TARGET_US), "CPU <= 300 µs")),
            Peer::Node => {
                verdicts.push((result, cpu_ratio.is_some_and(|r| r >= NODE_RATIO_TARGET), "CPU >= 8x less than node"));
                verdicts.push((result, wall_ratio.is_some_and(|r| r > 1.0), "wall p50 below node's"));
            }
        }
    }
    println!();
    let missed: Vec<String> =
        verdicts.iter().filter(|(_, met, _)| !met).map(|(r, _, target)| format!("{} {}: {target}", r.function, r.path)).collect();
    if missed.is_empty() {
        println!("targets (CPU <= {CPU_TARGET_US} µs; >= {NODE_RATIO_TARGET}x less CPU than node; wall p50 below node's): all met");
    } else {
        println!("targets MISSED: {}", missed.join("; "));
    }
    let _ = io::stdout().flush();
}
