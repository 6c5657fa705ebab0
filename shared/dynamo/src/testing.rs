//! Stores on fresh tables in the DynamoDB Local that `make test` starts
//! (`scripts/with-dynamodb-local`), for the tests of every layer. Behind the
//! `testing` feature.

use crate::{DynamoStore, TableNames, tables};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// How long the test stores keep events: the deployed default.
pub const RETENTION: Duration = Duration::from_secs(90 * 86_400);

/// A client for the DynamoDB Local that `make test` started.
pub fn client() -> Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("these tests run against DynamoDB Local: run them with `make test` (or scripts/with-dynamodb-local cargo test)");
    Client::from_conf(config(&endpoint).build())
}

/// Client settings for a DynamoDB at `endpoint`, with local credentials.
pub fn config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
}

/// Table names no other test uses, so tests run in parallel.
pub fn unique_tables() -> TableNames {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    TableNames::with_prefix(&format!("test-{}-{}-", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// A store on fresh tables, created from template.yaml.
pub async fn store() -> DynamoStore {
    let client = client();
    let tables = unique_tables();
    tables::create(&client, &tables).await.expect("tables created");
    DynamoStore::new(client, tables, RETENTION)
}

/// The calls table's stream of `store`, read from now on, from the DynamoDB
/// Local that `make test` started.
pub async fn stream(store: &DynamoStore) -> crate::changes::StreamReader {
    use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("these tests run against DynamoDB Local");
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .build();
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(config);
    crate::changes::StreamReader::open(store.client(), streams, &store.tables().calls).await.expect("the calls table has a stream")
}

/// Another store on the same tables: another Lambda, with nothing remembered.
pub fn sibling(store: &DynamoStore) -> DynamoStore {
    DynamoStore::new(store.client().clone(), store.tables().clone(), RETENTION)
}

/// An AWS endpoint of the test's own that answers its `n`th request (from 0)
/// with `answer(n)`, a status and a JSON body: to throttle or fail as a real
/// service does, where DynamoDB Local and moto cannot. Returns its URL and the
/// count of requests it got.
pub async fn scripted_endpoint(answer: impl Fn(usize) -> (u16, String) + Send + Sync + 'static) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("bound");
    let requests = Arc::new(AtomicUsize::new(0));
    let (counted, answer) = (requests.clone(), Arc::new(answer));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (counted, answer) = (counted.clone(), answer.clone());
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // One request: its headers, then Content-Length bytes of body.
                    let head_end = buffer.windows(4).position(|w| w == b"\r\n\r\n");
                    let length = head_end.map(|end| {
                        let headers = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                        headers.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap_or(0))
                    });
                    match (head_end, length) {
                        (Some(end), Some(length)) if buffer.len() >= end + 4 + length => {
                            buffer.drain(..end + 4 + length);
                            let (status, body) = answer(counted.fetch_add(1, Ordering::SeqCst));
                            let response = format!(
                                "HTTP/1.1 {status} -\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if socket.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        _ => match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        },
                    }
                }
            });
        }
    });
    (format!("http://{address}"), requests)
}
