//! The stack when storage fails: DynamoDB Local stopped in the middle of a
//! `calltrack simulate` run against `calltrack serve`, then started again,
//! with Twilio's redelivery turned off. Nothing may depend on it: what storage
//! could not take goes to the callback queue (moto's SQS) and is applied from
//! there once storage is back.
//!
//! `make outage` runs it at full size (500 calls, 16 at once, 20 s without
//! storage); `make test` smaller. `OUTAGE_CALLS`, `OUTAGE_CONCURRENCY` and
//! `OUTAGE_SECONDS` set the size.

mod common;

use common::{NUMBER, TOKEN, add_number, queue_name, serve_logged, storage_args_at, text};
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

/// One line `simulate` prints per webhook: its route, final status and tries.
struct Delivery {
    route: String,
    status: u16,
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
                tries,
                answer: words.get(ms + 1).map_or(String::new(), |w| (*w).to_owned()),
            }
        })
        .collect()
}

/// `calltrack simulate` in the background: `calls` calls of `scenario`,
/// `concurrency` at once, never redelivered, then verified, waiting for what
/// the queue holds to be applied.
fn simulate(url: &str, storage: &[String], scenario: &str, calls: u32, concurrency: u32, extra: &[&str]) -> Child {
    let (calls, concurrency) = (calls.to_string(), concurrency.to_string());
    Command::new(env!("CARGO_BIN_EXE_calltrack"))
        .args(["simulate", "--base-url", url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", scenario, "--calls", &calls])
        .args(["--concurrency", &concurrency, "--retries", "0", "--verify", "--settle-seconds", "180"])
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

/// Each request's route and latency, from the server's log lines.
fn served_latencies(log: &str) -> Vec<(String, f64)> {
    let field = |line: &str, name: &str| {
        line.split_once(&format!("{name}=")).and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
    };
    log.lines()
        .filter(|line| line.contains("webhook"))
        .filter_map(|line| Some((field(line, "route")?.trim_matches('"').to_owned(), field(line, "latency_ms")?.parse().ok()?)))
        .collect()
}

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The messages in the queue `name` on the moto server that `make test` runs.
async fn queued(name: &str) -> usize {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS").expect("run with `make test`, which starts moto");
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(&endpoint)
        .build();
    let sqs = aws_sdk_sqs::Client::from_conf(config);
    let url = sqs.get_queue_url().queue_name(name).send().await.unwrap().queue_url.unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    attributes.values().map(|n| n.parse::<usize>().unwrap()).sum()
}

/// DynamoDB stops in the middle of a run and starts again, and nothing is
/// delivered twice. Callers are forwarded all along, at once; every webhook
/// is answered 2xx on its only try; in the end every call is stored as sent,
/// and neither the queue nor its dead-letter queue holds anything.
#[tokio::test(flavor = "multi_thread")]
async fn storage_stopped_mid_run_loses_nothing_without_twilio_retrying() {
    let (calls, concurrency, outage) = (setting("OUTAGE_CALLS", 100), setting("OUTAGE_CONCURRENCY", 8), setting("OUTAGE_SECONDS", 8));
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = std::env::temp_dir().join(format!("calltrack-faults-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let mut dynamodb = Storage::start(port, &data);
    let storage = storage_args_at(&format!("http://127.0.0.1:{port}"));
    add_number(&storage);
    let queue = queue_name();
    let log = data.with_extension("serve.log");
    let (_server, url) = serve_logged(&storage, &["--queue-name", &queue], Some(&log));

    // Every scenario, shuffled, running through the outage.
    let through = simulate(&url, &storage, "mixed", calls, concurrency, &["--shuffle"]);
    std::thread::sleep(Duration::from_secs(2));
    dynamodb.stop();
    let stopped = Instant::now();
    // Calls that come in while storage is down, in Twilio's order: the answer first.
    let during = simulate(&url, &storage, "answered", 5, 5, &[]);
    std::thread::sleep(Duration::from_secs(outage.into()).saturating_sub(stopped.elapsed()));
    let _restarted = Storage::start(dynamodb.port, &data);
    let (through, mut deliveries) = finished(through);
    let (during, more) = finished(during);
    deliveries.extend(more);
    let summary = |output: &str| output.lines().filter(|l| !l.starts_with("CA")).collect::<Vec<_>>().join("\n");
    eprintln!("{} s without storage\nthrough the outage:\n{}\nduring it:\n{}", outage, summary(&through), summary(&during));

    for d in &deliveries {
        assert_eq!(d.tries, 1, "never delivered twice");
        assert!(matches!(d.status, 200 | 204), "{}: {}", d.route, d.status);
    }
    // Twilio waits 15 s; the number's read, the write and the queue get 700 ms
    // each. Measured in the server, from its log: the simulator's own figures
    // also hold the wait for a loaded machine (DynamoDB Local restarting, 16
    // clients) to read and write the sockets.
    let served = served_latencies(&std::fs::read_to_string(&log).unwrap());
    let _ = std::fs::remove_file(&log);
    let caller_facing: Vec<&(String, f64)> =
        served.iter().filter(|(route, _)| route.ends_with("/answer") || route.ends_with("/dial-result")).collect();
    assert_eq!(caller_facing.len(), 2 * (calls as usize + 5), "every answer and dial-result logged");
    let slowest = caller_facing.iter().map(|(_, ms)| *ms).fold(0.0, f64::max);
    eprintln!("slowest answer or dial-result in the server: {slowest:.1} ms");
    assert!(slowest < 2500.0, "a caller waited {slowest} ms");
    let not_forwarded: Vec<&str> =
        deliveries.iter().filter(|d| d.route.ends_with("/answer") && d.answer != "Dial").map(|d| d.answer.as_str()).collect();
    assert_eq!(not_forwarded, Vec::<&str>::new(), "every caller forwarded");
    assert!(through.contains(&format!("verified {calls} calls: {calls} as sent, 0 lost, 0 wrong")), "{through}");
    assert!(during.contains("verified 5 calls: 5 as sent, 0 lost, 0 wrong"), "{during}");
    assert!(during.contains("settled after"), "the calls made during the outage waited for the queue: {during}");
    // Every call is stored as sent by now; a callback whose try met the outage
    // may still wait out its backoff on the queue, to be applied (a duplicate
    // by then) when it ends. The queue must empty, and nothing go dead.
    let drained = Instant::now();
    let left = loop {
        let left = (queued(&queue).await, queued(&format!("{queue}-dead-letter")).await);
        if left == (0, 0) || drained.elapsed() > Duration::from_secs(120) {
            break left;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    eprintln!("the queue emptied {:.0} s after the calls were verified", drained.elapsed().as_secs_f64());
    assert_eq!(left, (0, 0), "the queue and its dead-letter queue are empty");
}
