//! What the two Lambda harnesses share (`cold_start.rs`, `warm.rs`): where the repository and
//! the binaries are, the DynamoDB Local setup, a function's Lambda-like environment, the fake
//! Runtime API's invocation reply, and a relay in front of DynamoDB Local that sees each request.
//!
//! These are measuring tools, not part of calltrack: they run the functions as deployed, as
//! separate processes, and use the calltrack CLI binary only for the setup.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The token and base URL the events in events/ are signed with.
pub const TWILIO_AUTH_TOKEN: &str = "test-auth-token-not-a-secret";
pub const PUBLIC_BASE_URL: &str = "http://127.0.0.1:3000";

/// The demo tracking number the sample events call.
pub const DEMO_NUMBER: &str = "+18005551212";

/// The Runtime API's path prefix.
pub const PREFIX: &str = "/2018-06-01/runtime";

/// A harness's exit: 0 when every run passed, 1 when one failed, 2 (saying why) when nothing
/// could be measured.
pub fn exit_code(harness: &str, measured: Result<bool, String>) -> ExitCode {
    match measured {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("{harness}: {message}");
            ExitCode::from(2)
        }
    }
}

/// The repository: events/ and .tools/ are found from here, whatever the working directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ is inside the repository").to_path_buf()
}

/// Where cargo builds: `$CARGO_TARGET_DIR`, else target/ in the repository.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()).map_or_else(|| root.join("target"), PathBuf::from)
}

/// DynamoDB Local's endpoint, from `AWS_ENDPOINT_URL_DYNAMODB`, or how to run the harness.
pub fn dynamodb_endpoint(example: &str) -> Result<String, String> {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok().filter(|e| !e.is_empty()).ok_or_else(|| {
        format!(
            "AWS_ENDPOINT_URL_DYNAMODB is not set: run it as `make {}`, or as \
             scripts/with-dynamodb-local cargo run -p calltrack --example {example}",
            example.replace('_', "-")
        )
    })
}

/// DynamoDB Local's address, for the relay.
pub fn resolve(endpoint: &str) -> Result<SocketAddr, String> {
    let url = reqwest::Url::parse(endpoint).map_err(|e| format!("AWS_ENDPOINT_URL_DYNAMODB={endpoint}: {e}"))?;
    let addrs = url.socket_addrs(|| None).map_err(|e| format!("AWS_ENDPOINT_URL_DYNAMODB={endpoint}: {e}"))?;
    addrs.into_iter().next().ok_or_else(|| format!("AWS_ENDPOINT_URL_DYNAMODB={endpoint}: no address"))
}

/// The release binary of a function in `bin_dir`: `cargo build` leaves DIR/answer,
/// `cargo lambda build` leaves DIR/answer/bootstrap.
pub fn function_binary(bin_dir: &Path, name: &str) -> Result<PathBuf, String> {
    let is_executable = |path: &Path| std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    [bin_dir.join(name), bin_dir.join(name).join("bootstrap")].into_iter().find(|p| is_executable(p)).ok_or_else(|| {
        format!(
            "no binary for {name} in {} (looked for {name} and {name}/bootstrap): build them with \
             `nice cargo build --release --locked -p answer -p status -p recording`",
            bin_dir.display()
        )
    })
}

/// A sample event from events/, checked to be JSON.
pub fn read_event(root: &Path, event_path: &str) -> Result<Value, String> {
    let event = std::fs::read(root.join(event_path)).map_err(|e| format!("{event_path}: {e}"))?;
    serde_json::from_slice(&event).map_err(|e| format!("{event_path} is not JSON: {e}"))
}

/// The tables and the demo tracking number, in DynamoDB Local, made with the calltrack CLI.
pub fn create_tables_and_demo_number(root: &Path, endpoint: &str) -> Result<(), String> {
    eprintln!("== tables and the demo tracking number in DynamoDB Local ({endpoint})");
    calltrack(root, &["tables", "create"])?;
    calltrack(
        root,
        &[
            "numbers",
            "add",
            DEMO_NUMBER,
            "--tenant",
            "demo",
            "--user",
            "jane",
            "--forward-to",
            "+14155550123",
            "--source",
            "Google Ads",
            "--whisper",
            "Call from Google Ads",
        ],
    )
}

/// Runs the calltrack CLI (`$CALLTRACK`, else target/debug/calltrack) for the setup, its
/// output on stderr so that stdout keeps only the table.
fn calltrack(root: &Path, args: &[&str]) -> Result<(), String> {
    let program =
        std::env::var_os("CALLTRACK").filter(|p| !p.is_empty()).map_or_else(|| target_dir(root).join("debug/calltrack"), PathBuf::from);
    let status = Command::new(&program)
        .args(args)
        .env("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN)
        .env("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
        .env_remove("TWILIO_AUTH_TOKEN_PARAMETER")
        .stdin(Stdio::null())
        .stdout(io::stderr())
        .status()
        .map_err(|e| format!("cannot run {} ({e}): build it with `cargo build -p calltrack`, or set CALLTRACK", program.display()))?;
    if !status.success() {
        return Err(format!("`calltrack {}` failed ({status})", args.join(" ")));
    }
    Ok(())
}

/// The environment of a function: only what is named here, as in a Lambda sandbox. The
/// AWS_LAMBDA_RUNTIME_API and AWS_ENDPOINT_URL_DYNAMODB of each process are added by the
/// harness.
pub fn function_env(name: &str) -> Vec<(String, String)> {
    // Passed on when set and not empty (an empty SSL_CERT_DIR reads as an unset one to
    // rustls-native-certs). AWS_* are with-dynamodb-local's dummy credentials.
    const PASSED_ON: [&str; 11] = [
        "PATH",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "CALLS_TABLE",
        "CALL_EVENTS_TABLE",
        "TRACKING_NUMBERS_TABLE",
        "CALL_INDEX_TABLE",
        "AWS_ENDPOINT_URL_SSM",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ];
    let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let mut env: Vec<(String, String)> = PASSED_ON.iter().filter_map(|&key| Some((key.to_owned(), var(key)?))).collect();
    let region = var("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let lambda = [
        // The token comes from here, never from SSM (TWILIO_AUTH_TOKEN_PARAMETER is not passed).
        ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN.to_owned()),
        ("PUBLIC_BASE_URL", PUBLIC_BASE_URL.to_owned()),
        // What Lambda sets in a sandbox with the template's settings.
        ("AWS_LAMBDA_FUNCTION_NAME", format!("calltrack-{name}")),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/calltrack-{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "harness".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region),
        ("RUST_LOG", var("RUST_LOG").unwrap_or_else(|| "info".into())),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
    ];
    env.extend(lambda.into_iter().map(|(key, value)| (key.to_owned(), value)));
    env
}

/// A listener on a fresh loopback port and the task that serves it, each connection with
/// `connection`. Dropping it ends the task and every connection it accepted, requests in flight
/// included.
pub struct Server {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start<F, Connection>(mut connection: F) -> io::Result<Server>
    where
        F: FnMut(TcpStream) -> Connection + Send + 'static,
        Connection: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // Owned by the task: when it is aborted, the connections go with it.
            let mut connections = JoinSet::new();
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => connections.spawn(connection(stream)),
                    Err(error) => {
                        // The run then fails (no answer in time) and says nothing more useful.
                        eprintln!("\naccepting on {addr}: {error}");
                        return;
                    }
                };
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Server { addr, task })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub type Reply = Response<Full<Bytes>>;

/// The Runtime API's answer to `GET /next`: one invocation of `event`, with the headers Lambda
/// sends.
pub fn invocation(id: &str, event: Bytes) -> Reply {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis();
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", id)
        .header("Lambda-Runtime-Deadline-Ms", (now_ms + 30_000).to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:harness")
        .header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
        .body(Full::new(event))
        .expect("the headers are valid")
}

pub fn json_reply(status: StatusCode, body: Value) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("the headers are valid")
}

pub fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// One end of a relayed connection.
#[derive(Clone, Copy, PartialEq)]
pub enum Side {
    Function,
    DynamoDb,
}

/// Relays one of the function's connections to DynamoDB Local, byte for byte, and tells
/// `on_turn` when, and who, speaks after the other side did: an exchange is the function's bytes
/// (a request), then DynamoDB's (its answer). HTTP/1.1 without pipelining, as the SDKs speak it,
/// takes turns like that, so each `Side::Function` turn is one request.
pub async fn relay(function: TcpStream, upstream: SocketAddr, on_turn: impl FnMut(Side, Instant) + Send) {
    // Refused: the function sees DynamoDB down, as it would be.
    let Ok(dynamodb) = TcpStream::connect(upstream).await else { return };
    // Without it, small writes would wait on Nagle and the delay would count as DynamoDB's.
    let _ = function.set_nodelay(true);
    let _ = dynamodb.set_nodelay(true);
    let (function_read, function_write) = function.into_split();
    let (dynamodb_read, dynamodb_write) = dynamodb.into_split();
    let turn = Mutex::new((None, on_turn));
    // When either side closes or fails, the relayed connection ends both ways.
    tokio::select! {
        () = pump(function_read, dynamodb_write, Side::Function, &turn) => {}
        () = pump(dynamodb_read, function_write, Side::DynamoDb, &turn) => {}
    }
}

/// Copies one direction of a relayed connection, and reports each change of turn.
async fn pump<F: FnMut(Side, Instant)>(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, side: Side, turn: &Mutex<(Option<Side>, F)>) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let at = Instant::now();
        {
            let mut turn = turn.lock().unwrap();
            let (last, on_turn) = &mut *turn;
            if *last != Some(side) {
                on_turn(side, at);
            }
            *last = Some(side);
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
