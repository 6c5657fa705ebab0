//! Cold start and peak memory of the Lambda functions (answer, status, recording) on this
//! machine: from spawning a release binary to its first event handled, against a fake Lambda
//! Runtime API on loopback. The targets (BENCHMARKS.md, section (c)): init, spawn to the first
//! `GET /runtime/invocation/next`, ≤ 20 ms at p90; peak RSS ≤ 20 MB.
//!
//! ```text
//! make cold-start        # builds the release functions and calltrack first, then runs this
//! scripts/with-dynamodb-local cargo run -p calltrack --example cold_start [-- DIR]
//! ```
//!
//! DIR (default: target/release, in $CARGO_TARGET_DIR if set) holds `answer` or
//! `answer/bootstrap`, and so on; this program builds nothing. Settings, from the environment
//! (each also a flag, `--help`): COLD_START_RUNS (20 runs per function),
//! COLD_START_WARMUP (10 runs before those, not counted: they wake DynamoDB Local's JIT),
//! COLD_START_FUNCTIONS ("answer status recording"), COLD_START_EVICT=1 (drop the binary from the
//! page cache before each run, so that it is read from disk as in a new Lambda sandbox),
//! COLD_START_PROXY=0 (no timestamping relay in front of DynamoDB Local, so no split of init),
//! CALLTRACK (the calltrack CLI that makes the tables and the demo number; else
//! target/debug/calltrack). SSL_CERT_FILE and SSL_CERT_DIR are passed on to the functions
//! (rustls-native-certs reads them instead of probing).
//!
//! Each run: a fresh Runtime API server (and relay) on its own port, so that nothing from the run
//! before (killed mid-request) can be taken for this run's; spawn the binary with a Lambda-like
//! environment; hand it exactly one signed event from events/ on `/next` and park any later
//! `/next`, as Lambda does with an idle function; time the response POST and read its statusCode
//! (200 for answer, 204 for status and recording); read the process's VmHWM (peak RSS) then and
//! again just before SIGKILLing it. An `/init/error` or `/invocation/{id}/error` post, a process
//! exit or a wrong statusCode fails the run. A failed counted run makes this program exit 1 (a
//! failed warm-up run is reported, and kept in the JSON, but does not); exit 2 is for not being
//! able to measure at all (no DynamoDB Local, no binary, the setup failed).
//!
//! The relay timestamps each DynamoDB request and the first byte of its answer, which splits
//! init into: spawn → the DescribeTable warm-up request leaves (runtime, tracing, settings,
//! aws-config) | its round trip (DynamoDB Local) | → the first `/next`; and it counts the
//! requests made while handling the event.
//!
//! What this does not show: a real sandbox reads the binary from network storage
//! (COLD_START_EVICT approximates it), runs on arm64 with a fraction of a vCPU at 128 MB, and
//! warms its connection to DynamoDB over DNS and TLS, not plain HTTP to loopback.
//!
//! Out: the summary table on stdout, progress on stderr; the functions' logs and each function's
//! figures, every run included, in .tools/cold-start/ (`answer.log`, `answer.json`, ...).
//!
//! This is a measuring tool, not part of calltrack: it uses no calltrack crate, only the CLI
//! binary for the setup, so that it measures the functions as deployed and nothing else. What it
//! shares with the warm-invocation harness (`warm.rs`) is in `lambda_harness/`.

mod lambda_harness;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use clap::Parser;
use clap::builder::BoolishValueParser;
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use lambda_harness::{
    PREFIX, Reply, Server, Side, create_tables_and_demo_number, dynamodb_endpoint, exit_code, function_binary, function_env, invocation,
    json_reply, read_event, relay, resolve, root, round, target_dir,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Notify;

// ---------------------------------------------------------------------------------------------
// What is measured, and how

/// Each function, the sample event it is started with, and the statusCode its response must
/// have. The events are signed with `TWILIO_AUTH_TOKEN` for `PUBLIC_BASE_URL`, below.
const FUNCTIONS: [(&str, &str, i64); 3] = [
    ("answer", "events/answer-known-number.json", 200),
    ("status", "events/status-parent-completed.json", 204),
    ("recording", "events/recording-completed.json", 204),
];

/// The figures the table and the targets rest on.
const INIT_TARGET_MS: f64 = 20.0;
const RSS_TARGET_MB: f64 = 20.0;

#[derive(Parser)]
#[command(about = "Cold start and peak memory of the Lambda functions against a fake Runtime API (BENCHMARKS.md (c))")]
struct Settings {
    /// Where the release binaries are: DIR/answer or DIR/answer/bootstrap, and so on
    /// [default: target/release, in $CARGO_TARGET_DIR if set]
    dir: Option<PathBuf>,
    /// Cold starts per function that count
    #[arg(long, env = "COLD_START_RUNS", default_value_t = 20)]
    runs: u32,
    /// Cold starts per function before those, not counted: they wake DynamoDB Local's JIT
    #[arg(long, env = "COLD_START_WARMUP", default_value_t = 10)]
    warmup: u32,
    /// The functions to start, separated by spaces
    #[arg(long, env = "COLD_START_FUNCTIONS", default_value = "answer status recording")]
    functions: String,
    /// Drop the binary from the page cache before each run: read from disk, as in a new sandbox
    #[arg(long, env = "COLD_START_EVICT", value_parser = BoolishValueParser::new(), default_value = "0", action = clap::ArgAction::Set)]
    evict: bool,
    /// Put the timestamping relay in front of DynamoDB Local; without it, init is not split
    #[arg(long, env = "COLD_START_PROXY", value_parser = BoolishValueParser::new(), default_value = "1", action = clap::ArgAction::Set)]
    proxy: bool,
    /// Seconds a run may take before it fails
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
}

/// One function to measure, checked before anything starts.
struct Function {
    name: &'static str,
    binary: PathBuf,
    /// Relative to the repository, as it is shown.
    event_path: &'static str,
    event: Bytes,
    expect: i64,
}

/// Where DynamoDB Local is, and whether the functions reach it through the relay.
struct DynamoDb {
    /// AWS_ENDPOINT_URL_DYNAMODB as given: what the functions get without the relay.
    endpoint: String,
    /// Its address, resolved once: where the relay connects for each connection.
    upstream: SocketAddr,
    relay: bool,
}

fn main() -> ExitCode {
    exit_code("cold_start", measure_all(&Settings::parse()))
}

/// Checks and sets the stage, measures each function, prints the table. `Ok(false)` when a
/// counted run failed; `Err` when nothing could be measured.
fn measure_all(settings: &Settings) -> Result<bool, String> {
    let root = root();
    let endpoint = dynamodb_endpoint("cold_start")?;
    let dynamodb = DynamoDb { upstream: resolve(&endpoint)?, endpoint, relay: settings.proxy };
    let bin_dir = settings.dir.clone().unwrap_or_else(|| target_dir(&root).join("release"));
    let functions =
        settings.functions.split_whitespace().map(|name| find_function(&root, &bin_dir, name)).collect::<Result<Vec<_>, _>>()?;

    create_tables_and_demo_number(&root, &dynamodb.endpoint)?;

    let out = root.join(".tools/cold-start");
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    // One thread: the Runtime API and the relay are light, and a second busy runtime thread
    // would compete with the function being measured on a small machine.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let mut summaries = Vec::new();
    for function in &functions {
        eprintln!("== {}: {} cold starts of {} with {}", function.name, settings.runs, function.binary.display(), function.event_path);
        let summary = runtime.block_on(measure(function, settings, &dynamodb, &out))?;
        let path = out.join(format!("{}.json", function.name));
        let json = serde_json::to_string_pretty(&summary.to_json()).expect("JSON values serialize");
        fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        summaries.push(summary);
    }

    print_table(&summaries);
    eprintln!("logs and per-run figures: .tools/cold-start/");
    Ok(summaries.iter().all(|s| s.failures() == 0))
}

/// The function named, its binary and its event, or why it cannot be measured.
fn find_function(root: &Path, bin_dir: &Path, name: &str) -> Result<Function, String> {
    let Some(&(name, event_path, expect)) = FUNCTIONS.iter().find(|(known, ..)| *known == name) else {
        return Err(format!("unknown function {name}: COLD_START_FUNCTIONS takes answer, status, recording"));
    };
    let binary = function_binary(bin_dir, name)?;
    let event = read_event(root, event_path)?;
    Ok(Function { name, binary, event_path, event: event.to_string().into(), expect })
}

// ---------------------------------------------------------------------------------------------
// The runs

/// What one cold start did, as seen from the Runtime API and the relay while it ran.
struct Run {
    /// The invocation's request id: a POST for another id is not this run's.
    id: String,
    event: Bytes,
    /// Set just after the spawn, for reading VmHWM when the response arrives.
    pid: OnceLock<i32>,
    /// A response or an error was posted.
    finished: Notify,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    nexts: u32,
    first_next: Option<Instant>,
    response_at: Option<Instant>,
    status_code: Option<i64>,
    failure: Option<String>,
    vm_hwm_kb: Option<u64>,
    /// Each DynamoDB exchange through the relay, in the order the requests left.
    dynamodb: Vec<Exchange>,
}

struct Exchange {
    /// The first byte of the request.
    sent: Instant,
    /// The first byte of the answer.
    answered: Option<Instant>,
}

/// One run's figures, in ms from the spawn (`t0`) unless named otherwise.
struct Figures {
    /// Warm-up runs are numbered from 1 - warmup to 0; counted runs from 1.
    run: i64,
    failure: Option<String>,
    status: Option<i64>,
    /// Spawn → the first `GET /next`.
    init_ms: Option<f64>,
    /// Spawn → the response POST.
    total_ms: Option<f64>,
    /// The first `GET /next` → the response POST: the handler, its DynamoDB requests included.
    invoke_ms: Option<f64>,
    peak_rss_mb: Option<f64>,
    /// User + system CPU time of the whole process, up to the SIGKILL.
    cpu_ms: f64,
    /// (request sent, answer's first byte), from the spawn.
    dynamodb: Vec<(f64, Option<f64>)>,
    dynamodb_in_init: Option<f64>,
    dynamodb_in_invoke: Option<f64>,
    /// Init split at the first DynamoDB exchange (DescribeTable, the client's warm-up).
    to_describe_ms: Option<f64>,
    describe_rtt_ms: Option<f64>,
    after_describe_ms: Option<f64>,
}

/// Cold-starts one function `warmup + runs` times, one after the other.
async fn measure(function: &Function, settings: &Settings, dynamodb: &DynamoDb, out: &Path) -> Result<Summary, String> {
    let log_path = out.join(format!("{}.log", function.name));
    File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    // Appended to by this program and by each function, through the same open file.
    let mut log = OpenOptions::new().append(true).open(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let env = function_env(function.name);
    let timeout = Duration::from_secs_f64(settings.timeout);
    let binary_bytes = fs::metadata(&function.binary).map_err(|e| format!("{}: {e}", function.binary.display()))?.len();

    let mut runs = Vec::new();
    let mut warmup_failures = 0;
    for number in (1 - i64::from(settings.warmup))..=i64::from(settings.runs) {
        if settings.evict {
            evict(&function.binary).map_err(|e| format!("evicting {}: {e}", function.binary.display()))?;
        }
        writeln!(log, "\n==== {} run {number}", function.name).map_err(|e| e.to_string())?;
        let figures =
            one_run(number, function, &env, dynamodb, timeout, &log).await.map_err(|e| format!("{} run {number}: {e}", function.name))?;
        let mut stderr = io::stderr().lock();
        let _ = write!(stderr, "{}", if figures.failure.is_none() { "." } else { "x" });
        if let Some(failure) = &figures.failure {
            let _ = write!(stderr, "\n{} run {number}: {failure}\n", function.name);
        }
        let _ = stderr.flush();
        if number >= 1 {
            runs.push(figures);
        } else if figures.failure.is_some() {
            // Reported, not counted: the first runs can meet a DynamoDB Local still warming up.
            warmup_failures += 1;
        }
    }
    eprintln!();

    let stats = SUMMARISED.iter().map(|&(key, get)| (key, Stat::of(runs.iter().filter_map(get).collect()))).collect();
    Ok(Summary {
        function: function.name,
        binary: function.binary.clone(),
        binary_bytes,
        event: function.event_path,
        expect: function.expect,
        runs,
        warmup_failures,
        stats,
    })
}

/// How a run's wait ended.
enum Ending {
    /// A response or an error was posted.
    Posted,
    /// The process ended by itself: how.
    Exited(String),
    TimedOut,
}

/// One cold start: its own Runtime API (and relay), the process spawned, awaited, killed.
/// `Err` only when the run could not be made at all (no port, no spawn).
async fn one_run(
    number: i64,
    function: &Function,
    env: &[(String, String)],
    dynamodb: &DynamoDb,
    timeout: Duration,
    log: &File,
) -> io::Result<Figures> {
    let run = Arc::new(Run {
        id: format!("cold-start-{}-{number}", std::process::id()),
        event: function.event.clone(),
        pid: OnceLock::new(),
        finished: Notify::new(),
        seen: Mutex::new(Seen::default()),
    });
    // Both stop when dropped at the end of this function: parked `/next` requests with them.
    let for_api = run.clone();
    let api = Server::start(move |stream| serve_runtime_api(stream, for_api.clone())).await?;
    let relay = if dynamodb.relay {
        let (for_relay, upstream) = (run.clone(), dynamodb.upstream);
        Some(Server::start(move |stream| relay_timed(stream, upstream, for_relay.clone())).await?)
    } else {
        None
    };
    let endpoint = relay.as_ref().map_or_else(|| dynamodb.endpoint.clone(), |relay| format!("http://{}", relay.addr));

    let mut command = Command::new(&function.binary);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?);
    let t0 = Instant::now();
    let child = command.spawn()?;
    let pid = i32::try_from(child.id()).expect("pids fit in i32");
    run.pid.set(pid).expect("set once");
    // The std handle is done with: this program reaps the process itself, for its CPU time.
    drop(child);

    let deadline = tokio::time::Instant::from_std(t0 + timeout);
    let mut exited = tokio::task::spawn_blocking(move || wait_exited(pid));
    let ending = tokio::select! {
        biased;
        () = run.finished.notified() => Ending::Posted,
        how = &mut exited => Ending::Exited(how.expect("the waiting thread does not panic")),
        () = tokio::time::sleep_until(deadline) => Ending::TimedOut,
    };
    if let Ending::Exited(how) = ending {
        let mut seen = run.seen.lock().unwrap();
        seen.failure.get_or_insert_with(|| format!("process {how} before answering (see the log)"));
    } else {
        if let Ending::TimedOut = ending {
            run.seen.lock().unwrap().failure = Some(format!("no response within {} s", timeout.as_secs_f64()));
        }
        // The peak so far: VmHWM read at the response may miss the few allocations after it
        // (the next GET /next).
        let late = vm_hwm_kb(pid);
        {
            let mut seen = run.seen.lock().unwrap();
            seen.vm_hwm_kb = seen.vm_hwm_kb.max(late);
        }
        // SAFETY: kill(2) touches no memory of ours. The process is not reaped yet (wait_exited
        // does not reap), so `pid` is still the function's, or its zombie's.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        exited.await.expect("the waiting thread does not panic");
    }
    let cpu_ms = reap(pid);
    drop(api);
    drop(relay);

    let seen = std::mem::take(&mut *run.seen.lock().unwrap());
    Ok(figures(number, t0, seen, function.expect, cpu_ms))
}

/// The run's figures from what was seen, in ms from `t0`.
fn figures(number: i64, t0: Instant, seen: Seen, expect: i64, cpu_ms: f64) -> Figures {
    let ms = |at: Instant| round(at.duration_since(t0).as_secs_f64() * 1e3, 3);
    let between = |from: Option<Instant>, to: Option<Instant>| Some(round(to?.duration_since(from?).as_secs_f64() * 1e3, 3));
    let failure = seen.failure.or_else(|| match seen.status_code {
        Some(code) if code == expect => None,
        Some(code) => Some(format!("statusCode {code}, expected {expect}")),
        None => Some(format!("no statusCode, expected {expect}")),
    });
    let mut figures = Figures {
        run: number,
        failure,
        status: seen.status_code,
        init_ms: seen.first_next.map(ms),
        total_ms: seen.response_at.map(ms),
        invoke_ms: between(seen.first_next, seen.response_at),
        // VmHWM, the process's own high-water mark; not ru_maxrss, which Linux may carry over
        // execve from the spawning process's image.
        peak_rss_mb: seen.vm_hwm_kb.map(|kb| round(kb as f64 / 1024.0, 2)),
        cpu_ms: round(cpu_ms, 1),
        dynamodb: seen.dynamodb.iter().map(|x| (ms(x.sent), x.answered.map(ms))).collect(),
        dynamodb_in_init: None,
        dynamodb_in_invoke: None,
        to_describe_ms: None,
        describe_rtt_ms: None,
        after_describe_ms: None,
    };
    if let (Some(first_next), false) = (seen.first_next, seen.dynamodb.is_empty()) {
        let in_init: Vec<&Exchange> = seen.dynamodb.iter().filter(|x| x.sent < first_next).collect();
        figures.dynamodb_in_init = Some(in_init.len() as f64);
        figures.dynamodb_in_invoke = Some((seen.dynamodb.len() - in_init.len()) as f64);
        if let Some(&&Exchange { sent, answered: Some(answered) }) = in_init.first() {
            figures.to_describe_ms = Some(ms(sent));
            figures.describe_rtt_ms = between(Some(sent), Some(answered));
            figures.after_describe_ms = between(Some(answered), Some(first_next));
        }
    }
    figures
}

// ---------------------------------------------------------------------------------------------
// The process: peak RSS, page cache, exit and CPU time

/// The process's peak RSS (VmHWM in /proc/PID/status), in kB; `None` once it is gone.
fn vm_hwm_kb(pid: i32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()
}

/// Drops the binary from the page cache, so that the next spawn reads it from disk.
fn evict(binary: &Path) -> io::Result<()> {
    let file = File::open(binary)?;
    // SAFETY: the descriptor is open for the duration of the call; no memory is passed.
    match unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) } {
        0 => Ok(()),
        error => Err(io::Error::from_raw_os_error(error)),
    }
}

/// Blocks until the process has ended, without reaping it (WNOWAIT): until `reap`, its pid
/// cannot be reused, so a SIGKILL sent after this returned cannot reach another process.
/// Returns how it ended, for the failure message.
fn wait_exited(pid: i32) -> String {
    loop {
        // SAFETY: siginfo_t is plain data, valid zeroed; waitid fills it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t.
        let result = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if result == 0 {
            // SAFETY: waitid succeeded for a child that ended, so si_status is set.
            let status = unsafe { info.si_status() };
            return match info.si_code {
                libc::CLD_EXITED => format!("exited with {status}"),
                _ => format!("was killed by signal {status}"),
            };
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return format!("could not be waited for ({error})");
        }
    }
}

/// Reaps the ended process; returns its CPU time (user + system), in ms.
fn reap(pid: i32) -> f64 {
    // SAFETY: plain data, valid zeroed; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status = 0;
    loop {
        // SAFETY: `status` and `usage` are valid and writable. The process has ended
        // (wait_exited), so this does not block.
        let result = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if result != -1 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

// ---------------------------------------------------------------------------------------------
// The run's servers: the fake Runtime API, and the relay in front of DynamoDB Local

async fn serve_runtime_api(stream: TcpStream, run: Arc<Run>) {
    let service = service_fn(move |request| runtime_api(run.clone(), request));
    // A killed function drops its connections mid-request: not worth reporting.
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

/// The Runtime API's three calls a function makes (the Rust runtime's): `GET /next`, and a POST
/// of the response or of an error. Everything else is a 404.
async fn runtime_api(run: Arc<Run>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    // Taken first: a GET has no body, and the time is that of the request's arrival.
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    Ok(match (method, path.strip_prefix(PREFIX)) {
        (Method::GET, Some("/invocation/next")) => next_invocation(&run, at).await,
        (Method::POST, Some(route)) => match request.into_body().collect().await {
            // Timed once the body is in, as a function's POST counts when it is complete.
            Ok(body) => posted(&run, route, &body.to_bytes(), Instant::now()),
            Err(error) => json_reply(StatusCode::BAD_REQUEST, json!({ "errorMessage": error.to_string() })),
        },
        _ => json_reply(StatusCode::NOT_FOUND, json!({ "errorMessage": format!("no such path {path}") })),
    })
}

/// The first `/next` gets the event; any later one is parked, as Lambda parks an idle function
/// between invocations, until the run ends and this server with it.
async fn next_invocation(run: &Run, at: Instant) -> Reply {
    let first = {
        let mut seen = run.seen.lock().unwrap();
        seen.nexts += 1;
        if seen.nexts == 1 {
            seen.first_next = Some(at);
        }
        seen.nexts == 1
    };
    if !first {
        return std::future::pending().await;
    }
    invocation(&run.id, run.event.clone())
}

/// A POST: this invocation's response (its time, statusCode and VmHWM), or an error.
fn posted(run: &Run, route: &str, body: &[u8], at: Instant) -> Reply {
    let lossy = |limit: usize| String::from_utf8_lossy(&body[..body.len().min(limit)]).into_owned();
    let is_error = route == "/init/error" || (route.starts_with("/invocation/") && route.ends_with("/error"));
    {
        let mut seen = run.seen.lock().unwrap();
        if route == format!("/invocation/{}/response", run.id) {
            // Read before the 202 goes back: the peak while handling the event.
            seen.vm_hwm_kb = run.pid.get().and_then(|&pid| vm_hwm_kb(pid));
            seen.response_at = Some(at);
            match serde_json::from_slice::<Value>(body) {
                Ok(response) => seen.status_code = response.get("statusCode").and_then(Value::as_i64),
                Err(_) => seen.failure = Some(format!("response is not JSON: {:?}", lossy(200))),
            }
        } else if is_error {
            seen.response_at = Some(at);
            seen.failure = Some(format!("POST {route}: {}", lossy(500)));
        } else {
            return json_reply(StatusCode::NOT_FOUND, json!({ "errorMessage": format!("no such path {PREFIX}{route}") }));
        }
    }
    run.finished.notify_one();
    json_reply(StatusCode::ACCEPTED, json!({ "status": "OK" }))
}

/// Relays one of the function's connections to DynamoDB Local, timestamping each request and the
/// first byte of its answer.
async fn relay_timed(function: TcpStream, upstream: SocketAddr, run: Arc<Run>) {
    // This connection's current exchange, an index into `Seen::dynamodb`.
    let mut exchange = None;
    relay(function, upstream, move |side, at| {
        let mut seen = run.seen.lock().unwrap();
        match side {
            Side::Function => {
                seen.dynamodb.push(Exchange { sent: at, answered: None });
                exchange = Some(seen.dynamodb.len() - 1);
            }
            Side::DynamoDb => {
                if let Some(exchange) = exchange {
                    seen.dynamodb[exchange].answered = Some(at);
                }
            }
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Summaries and the table

/// Reads one figure of a run.
type Figure = fn(&Figures) -> Option<f64>;

/// The per-run figures summarised, by their names in the JSON.
const SUMMARISED: [(&str, Figure); 10] = [
    ("init_ms", |f| f.init_ms),
    ("total_ms", |f| f.total_ms),
    ("invoke_ms", |f| f.invoke_ms),
    ("peak_rss_mb", |f| f.peak_rss_mb),
    ("cpu_ms", |f| Some(f.cpu_ms)),
    ("to_describe_ms", |f| f.to_describe_ms),
    ("describe_rtt_ms", |f| f.describe_rtt_ms),
    ("after_describe_ms", |f| f.after_describe_ms),
    ("dynamodb_in_init", |f| f.dynamodb_in_init),
    ("dynamodb_in_invoke", |f| f.dynamodb_in_invoke),
];

struct Stat {
    min: f64,
    median: f64,
    /// Nearest rank: the smallest value with at least 90 % of the runs at or below it.
    p90: f64,
    max: f64,
}

impl Stat {
    fn of(mut values: Vec<f64>) -> Option<Stat> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        let p90 = values[(9 * n).div_ceil(10) - 1];
        Some(Stat { min: values[0], median: round(median, 3), p90, max: values[n - 1] })
    }

    /// min / median / p90, as in the table.
    fn show(stat: Option<&Stat>) -> String {
        stat.map_or_else(|| "-".into(), |s| format!("{:.1} / {:.1} / {:.1}", s.min, s.median, s.p90))
    }
}

struct Summary {
    function: &'static str,
    binary: PathBuf,
    binary_bytes: u64,
    event: &'static str,
    expect: i64,
    /// The counted runs.
    runs: Vec<Figures>,
    warmup_failures: usize,
    stats: Vec<(&'static str, Option<Stat>)>,
}

impl Summary {
    fn stat(&self, key: &str) -> Option<&Stat> {
        self.stats.iter().find(|(k, _)| *k == key).and_then(|(_, stat)| stat.as_ref())
    }

    fn failures(&self) -> usize {
        self.runs.iter().filter(|r| r.failure.is_some()).count()
    }

    fn to_json(&self) -> Value {
        let stat = |s: &Option<Stat>| s.as_ref().map(|s| json!({ "min": s.min, "median": s.median, "p90": s.p90, "max": s.max }));
        let statuses: BTreeSet<i64> = self.runs.iter().filter_map(|r| r.status).collect();
        json!({
            "function": self.function,
            "binary": self.binary,
            "binary_bytes": self.binary_bytes,
            "event": self.event,
            "expect": self.expect,
            "runs": self.runs.len(),
            "failures": self.failures(),
            "warmup_failures": self.warmup_failures,
            "statuses": statuses,
            "stats": self.stats.iter().map(|(key, s)| (key.to_string(), json!(stat(s)))).collect::<serde_json::Map<_, _>>(),
            "all": self.runs.iter().map(Figures::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Figures {
    fn to_json(&self) -> Value {
        json!({
            "run": self.run,
            "ok": self.failure.is_none(),
            "failure": self.failure,
            "status": self.status,
            "init_ms": self.init_ms,
            "total_ms": self.total_ms,
            "invoke_ms": self.invoke_ms,
            "peak_rss_mb": self.peak_rss_mb,
            "cpu_ms": self.cpu_ms,
            "dynamodb": self.dynamodb,
            "dynamodb_in_init": self.dynamodb_in_init,
            "dynamodb_in_invoke": self.dynamodb_in_invoke,
            "to_describe_ms": self.to_describe_ms,
            "describe_rtt_ms": self.describe_rtt_ms,
            "after_describe_ms": self.after_describe_ms,
        })
    }
}

/// The summary: one line per function, the init split when the relay was there, and the
/// verdict on the targets (init at p90, the worst of the functions; peak RSS, the worst run).
fn print_table(summaries: &[Summary]) {
    let runs = summaries.first().map_or(0, |s| s.runs.len());
    println!();
    println!("cold starts, {runs} runs per function; min / median / p90");
    println!(
        "{:<10} {:<7} {:<22} {:<22} {:<20} {:<20} {:>9}",
        "function", "status", "init ms (to /next)", "to response ms", "handler ms", "peak RSS MB", "binary MB"
    );
    for s in summaries {
        let statuses: BTreeSet<i64> = s.runs.iter().filter_map(|r| r.status).collect();
        let mut status =
            if statuses.is_empty() { "-".to_owned() } else { statuses.iter().map(i64::to_string).collect::<Vec<_>>().join(",") };
        if s.failures() > 0 {
            status += &format!(" ({} failed)", s.failures());
        }
        println!(
            "{:<10} {:<7} {:<22} {:<22} {:<20} {:<20} {:>9.1}",
            s.function,
            status,
            Stat::show(s.stat("init_ms")),
            Stat::show(s.stat("total_ms")),
            Stat::show(s.stat("invoke_ms")),
            Stat::show(s.stat("peak_rss_mb")),
            s.binary_bytes as f64 / 1e6
        );
    }

    if summaries.iter().any(|s| s.stat("describe_rtt_ms").is_some()) {
        println!();
        println!("init, median: spawn -> DescribeTable sent | DescribeTable round trip | -> first /next; DynamoDB requests in the handler");
        for s in summaries {
            let median = |key| s.stat(key).map_or_else(|| "-".into(), |stat| format!("{:.1}", stat.median));
            // A count's median is a whole number unless the runs split evenly between two.
            let requests = s.stat("dynamodb_in_invoke").map_or_else(|| "-".into(), |stat| stat.median.to_string());
            println!(
                "{:<10} {:>6} ms | {:>6} ms | {:>6} ms; {requests} requests",
                s.function,
                median("to_describe_ms"),
                median("describe_rtt_ms"),
                median("after_describe_ms")
            );
        }
    }

    println!();
    let worst = |key, pick: fn(&Stat) -> f64| summaries.iter().filter_map(|s| s.stat(key).map(pick)).reduce(f64::max);
    if let (Some(init), Some(rss)) = (worst("init_ms", |s| s.p90), worst("peak_rss_mb", |s| s.max)) {
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "target init <= {INIT_TARGET_MS} ms (p90): {} (worst p90 {init:.1} ms); peak RSS <= {RSS_TARGET_MB} MB: {} (worst {rss:.1} MB)",
            verdict(init <= INIT_TARGET_MS),
            verdict(rss <= RSS_TARGET_MB)
        );
    }
}
