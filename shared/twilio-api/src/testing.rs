//! A fake of Twilio's REST API for tests of any crate: it answers each request
//! with the next of a scripted list of answers (Twilio's error bodies, a
//! created call, or silence) and records what it was sent. Behind the
//! `testing` feature. Plain HTTP/1.1 over Tokio, one request per connection.

use crate::NewCall;
use calltrack_twilio::fields::PhoneNumber;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// One answer the fake gives, in the order scripted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer with a JSON body.
    Reply { status: u16, headers: Vec<(String, String)>, body: String },
    /// Reads the request, then never answers: the request reached "Twilio",
    /// and the client can only time out.
    Silence,
}

impl Answer {
    /// `status` with `body`.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Answer::Reply { status, headers: Vec::new(), body: body.to_string() }
    }

    /// An error as Twilio answers it, e.g. `twilio_error(400, 21219, "The number
    /// +14155550100 is unverified. Trial accounts may only make calls to verified numbers.")`.
    pub fn twilio_error(status: u16, code: u32, message: &str) -> Self {
        Answer::json(
            status,
            &serde_json::json!({
                "code": code,
                "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            }),
        )
    }

    /// Twilio's 201 for a call it created, queued.
    pub fn call_created(sid: &str) -> Self {
        Answer::json(
            201,
            &serde_json::json!({
                "sid": sid,
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
            }),
        )
    }

    /// The same answer with one more header, e.g. `("Retry-After", "1")`.
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Answer::Reply { status, mut headers, body } => {
                headers.push((name.to_owned(), value.to_owned()));
                Answer::Reply { status, headers, body }
            }
            Answer::Silence => Answer::Silence,
        }
    }
}

/// A request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// With its query, e.g. `/2010-04-01/Accounts/AC…/Calls.json`.
    pub path: String,
    /// The form body's fields, decoded, in the order sent.
    pub form: Vec<(String, String)>,
}

impl Request {
    /// Every value of the form field `name`, in the order sent.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.form.iter().filter(|(field, _)| field == name).map(|(_, value)| value.as_str()).collect()
    }
}

/// A running fake, on a port of its own; it stops when dropped.
pub struct FakeTwilio {
    base_url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeTwilio {
    /// Serves `answers` on 127.0.0.1, one per request. Past the last, it
    /// answers 500 saying so, which a test's request count then shows.
    pub async fn start(answers: impl IntoIterator<Item = Answer>) -> FakeTwilio {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port on 127.0.0.1");
        let base_url = format!("http://{}", listener.local_addr().expect("a bound address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(answers.into_iter().collect::<std::collections::VecDeque<_>>()));
        let recorded = Arc::clone(&requests);
        let server = tokio::spawn(async move {
            // Owned here, so stopping the server stops every connection (a silent one too).
            let mut connections = JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                connections.spawn(serve(socket, Arc::clone(&script), Arc::clone(&recorded)));
            }
        });
        FakeTwilio { base_url, requests, server }
    }

    /// Where to point [`crate::TwilioApi::new`].
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// What it received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A call to place: the agent `+14155550100` rung from `+18005551212`, our
/// connect and status routes at `calls.example.com`.
pub fn call_to_place() -> NewCall {
    NewCall {
        to: PhoneNumber::e164("to", "+14155550100").expect("E.164"),
        from: PhoneNumber::e164("from", "+18005551212").expect("E.164"),
        url: "https://calls.example.com/api/twilio/voice/connect".into(),
        status_callback: "https://calls.example.com/api/twilio/voice/status".into(),
        timeout_seconds: 20,
    }
}

/// A URL where nothing listens, so connecting is refused: a port the system
/// just gave out and took back.
pub fn unreachable_base_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    let address = listener.local_addr().expect("a bound address");
    drop(listener);
    format!("http://{address}")
}

async fn serve(mut socket: TcpStream, script: Arc<Mutex<std::collections::VecDeque<Answer>>>, recorded: Arc<Mutex<Vec<Request>>>) {
    let Some(request) = read_request(&mut socket).await else { return };
    let what = format!("{} {}", request.method, request.path);
    recorded.lock().expect("not poisoned").push(request);
    let answer = script.lock().expect("not poisoned").pop_front();
    let (status, headers, body) = match answer {
        Some(Answer::Reply { status, headers, body }) => (status, headers, body),
        Some(Answer::Silence) => {
            // Hold the connection open, unanswered, until the client gives up.
            let mut rest = [0u8; 1024];
            while matches!(socket.read(&mut rest).await, Ok(n) if n > 0) {}
            return;
        }
        None => (500, Vec::new(), serde_json::json!({ "message": format!("the fake has no answer left for {what}") }).to_string()),
    };
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown");
    let mut head =
        format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The client may have given up already; there is no one to tell.
    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// Reads one request: its head up to the blank line, then `Content-Length` bytes of body.
async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = socket.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        bytes.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned();
    Some(Request { method, path, form: decode_form(&body) })
}

/// `a=1&b=x+y%21` as `[("a", "1"), ("b", "x y!")]`.
fn decode_form(body: &str) -> Vec<(String, String)> {
    let decode = |part: &str| percent_encoding::percent_decode_str(&part.replace('+', " ")).decode_utf8_lossy().into_owned();
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_form_as_sent() {
        let form = decode_form("To=%2B14155550100&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&Note=a+b%26c&Empty=");
        let shown: Vec<_> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("To", "+14155550100"),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "ringing"),
                ("Note", "a b&c"),
                ("Empty", ""),
            ]
        );
    }
}
