//! The stack when storage fails: DynamoDB Local stopped in the middle of a
//! `calltrack simulate` run against `calltrack serve`, then started again.

mod common;

use common::{NUMBER, TOKEN, add_number, serve, storage_args_at, text};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// DynamoDB Local of this test's own, on disk, so that it can be stopped and started again.
struct Storage {
    process: Option<Child>,
    port: u16,
    data: PathBuf,
}

impl Storage {
    fn start(port: u16, data: &Path) -> Self {
        let jar = std::env::var("DYNAMODB_LOCAL_DIR").expect("run with `make test`, which installs DynamoDB Local");
        let process = Command::new("java")
            .current_dir(&jar)
            .args(["-Xmx512m", "-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath"])
            .arg(data)
            .args(["-port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("java runs");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "DynamoDB Local did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Storage { process: Some(process), port, data: data.to_owned() }
    }

    /// Stops it as an outage would: the process ends, its port refuses connections.
    fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = Command::new("kill").arg(process.id().to_string()).status();
            let _ = process.wait();
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// One line `simulate` prints per webhook: its route, final status, latency and tries.
struct Delivery {
    route: String,
    status: u16,
    latency_ms: f64,
    tries: u32,
    answer: String,
}

fn deliveries(output: &str) -> Vec<Delivery> {
    output
        .lines()
        .filter(|line| line.starts_with("CA"))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let ms = words.iter().position(|w| *w == "ms").expect("a latency");
            let tries = line.split_once("(try ").map_or(1, |(_, rest)| rest.trim_end_matches(')').parse().unwrap());
            Delivery {
                route: words[1].to_owned(),
                status: words[ms - 2].parse().unwrap_or(0),
                latency_ms: words[ms - 1].parse().unwrap(),
                tries,
                answer: words.get(ms + 1).map_or(String::new(), |w| (*w).to_owned()),
            }
        })
        .collect()
}

/// `calltrack simulate` in the background: `calls` calls of `scenario`,
/// redelivering what fails as Twilio does when told to (`#rc=`), then verified.
fn simulate(url: &str, storage: &[String], scenario: &str, calls: u32, extra: &[&str]) -> Child {
    let calls = calls.to_string();
    Command::new(env!("CARGO_BIN_EXE_calltrack"))
        .args(["simulate", "--base-url", url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", scenario, "--calls", &calls])
        .args(["--concurrency", "8", "--retries", "12", "--verify"])
        .args(extra)
        .args(storage)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finished(run: Child) -> (String, Vec<Delivery>) {
    let Output { status, stdout, stderr } = run.wait_with_output().unwrap();
    let stdout = text(&stdout);
    assert!(status.success(), "{stdout}{}", text(&stderr));
    let deliveries = deliveries(&stdout);
    (stdout, deliveries)
}

/// DynamoDB stops for 5 s in the middle of a run and starts again. Callers are
/// forwarded all along, at once; status and recording callbacks get 503 and
/// are delivered again; in the end every call is stored as sent.
#[test]
fn storage_stopped_mid_run_then_restarted_loses_nothing() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = std::env::temp_dir().join(format!("calltrack-faults-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let mut dynamodb = Storage::start(port, &data);
    let storage = storage_args_at(&format!("http://127.0.0.1:{port}"));
    add_number(&storage);
    let (_server, url) = serve(&storage);

    // Every scenario, shuffled, running through the outage.
    let through = simulate(&url, &storage, "mixed", 100, &["--shuffle"]);
    std::thread::sleep(Duration::from_secs(2));
    dynamodb.stop();
    // Calls that come in while storage is down, in Twilio's order: the answer first.
    let during = simulate(&url, &storage, "answered", 5, &[]);
    std::thread::sleep(Duration::from_secs(5));
    let _restarted = Storage::start(dynamodb.port, &data);
    let (through, mut deliveries) = finished(through);
    let (during, more) = finished(during);
    deliveries.extend(more);

    for d in deliveries.iter().filter(|d| d.route.ends_with("/answer") || d.route.ends_with("/dial-result")) {
        assert_eq!((d.status, d.tries), (200, 1), "{}: the caller is answered at once, storage or not", d.route);
        // Twilio waits 15 s; each storage call has a 700 ms budget, and at most two are made.
        assert!(d.latency_ms < 2500.0, "{}: answered in {} ms", d.route, d.latency_ms);
    }
    let forwarded = deliveries.iter().filter(|d| d.route.ends_with("/answer") && d.answer == "Dial").count();
    assert_eq!(forwarded, 105, "every caller forwarded");
    let redelivered: Vec<&Delivery> = deliveries.iter().filter(|d| d.tries > 1).collect();
    assert!(!redelivered.is_empty(), "the outage hit no callback:\n{through}");
    assert!(redelivered.iter().all(|d| d.route.ends_with("/status") || d.route.ends_with("/recording")));
    assert!(through.contains("verified 100 calls: 100 as sent, 0 lost, 0 wrong"), "{through}");
    assert!(during.contains("verified 5 calls: 5 as sent, 0 lost, 0 wrong (5 answered while storage was down"), "{during}");
}
