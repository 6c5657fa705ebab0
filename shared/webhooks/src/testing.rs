//! An endpoint for tests of every layer (behind the `testing` feature): a
//! local HTTP server that checks each delivery's signature as a receiver
//! should ([`Verifier`]), answers as scripted, and remembers what it heard.

use crate::{Secret, Verifier};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One delivery as the endpoint heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// `webhook-id`.
    pub id: String,
    /// The body's `type`, `data.callSid` and `data.version`.
    pub event_type: String,
    pub call_sid: String,
    pub version: u64,
    /// The signature checked out (else the endpoint answered 401).
    pub verified: bool,
    /// Its id was heard (and answered 2xx) before.
    pub duplicate: bool,
    /// What the endpoint answered.
    pub status: u16,
    pub body: serde_json::Value,
}

/// A running endpoint; it stops when dropped.
pub struct Endpoint {
    url: String,
    heard: Arc<Mutex<Vec<Heard>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Checks deliveries against `secret` and answers the nth new, verified
    /// one (from 0) with `answer(n)`; duplicates get 204, forgeries 401.
    pub async fn start(secret: Secret, answer: impl Fn(usize) -> u16 + Send + Sync + 'static) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}/hooks", listener.local_addr().expect("bound"));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(Mutex::new((Verifier::new(secret), 0usize)));
        let (log, answer) = (heard.clone(), Arc::new(answer));
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, state, answer) = (log.clone(), state.clone(), answer.clone());
                tokio::spawn(async move { serve(socket, &log, &state, &*answer).await });
            }
        });
        Endpoint { url, heard, server }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// What it heard so far, in order.
    pub fn heard(&self) -> Vec<Heard> {
        self.heard.lock().expect("not poisoned").clone()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    mut socket: TcpStream,
    log: &Mutex<Vec<Heard>>,
    state: &Mutex<(Verifier, usize)>,
    answer: &(dyn Fn(usize) -> u16 + Send + Sync),
) {
    let Some((_, headers, body)) = read_request(&mut socket).await else { return };
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    let (verified, duplicate, status) = {
        let mut state = state.lock().expect("not poisoned");
        let (verifier, count) = &mut *state;
        match verifier.verify(&headers[..], &body, now) {
            Ok(verified) if verified.duplicate => (true, true, 204),
            Ok(verified) => {
                let status = answer(*count);
                *count += 1;
                if !(200..300).contains(&status) {
                    // Not taken: its retry is new, as a receiver that failed would see it.
                    verifier.forget(&verified.id);
                }
                (true, false, status)
            }
            Err(_) => (false, false, 401),
        }
    };
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    log.lock().expect("not poisoned").push(Heard {
        id: header("webhook-id"),
        event_type: json["type"].as_str().unwrap_or_default().to_owned(),
        call_sid: json["data"]["callSid"].as_str().unwrap_or_default().to_owned(),
        version: json["data"]["version"].as_u64().unwrap_or_default(),
        verified,
        duplicate,
        status,
        body: json,
    });
    let response = format!("HTTP/1.1 {status} Scripted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// One HTTP request as a receiver reads it: its first line, its headers
/// (names in lower case) and its body; none when the connection closes first.
pub async fn read_request(socket: &mut TcpStream) -> Option<(String, Vec<(String, String)>, Vec<u8>)> {
    let (mut bytes, mut buffer) = (Vec::new(), [0u8; 8192]);
    loop {
        let read = socket.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..read]);
        let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let text = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = text.split("\r\n");
        let head = lines.next()?.to_owned();
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
        let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        if bytes.len() >= end + 4 + length {
            return Some((head, headers, bytes[end + 4..end + 4 + length].to_vec()));
        }
    }
}
