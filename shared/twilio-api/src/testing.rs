//! A fake of Twilio's REST API for tests of any crate: it answers each request
//! with the next of a scripted list of answers (Twilio's error bodies, a
//! created call, a recording's audio, or silence) and records what it was sent. Behind the
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
    /// An HTTP answer with a body of any type, e.g. a recording's audio, all
    /// of it or only its start ([`Cut`]). No `Content-Type` when it is empty.
    Body { status: u16, content_type: String, headers: Vec<(String, String)>, body: Vec<u8>, cut: Option<Cut> },
    /// Reads the request, then never answers: the request reached "Twilio",
    /// and the client can only time out.
    Silence,
}

/// How an [`Answer::Body`] stops short, its head promising all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// After that many bytes of the body the connection closes: a download
    /// that dropped.
    Closed(usize),
    /// After that many bytes nothing more comes, the connection held open
    /// until the client gives up: a download that stalled.
    Stalled(usize),
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

    /// A recording's audio as Twilio serves it: 200, `audio/mpeg`, `body`.
    pub fn audio(body: impl Into<Vec<u8>>) -> Self {
        Answer::Body { status: 200, content_type: "audio/mpeg".into(), headers: Vec::new(), body: body.into(), cut: None }
    }

    /// Twilio's 204 for a resource it deleted.
    pub fn no_content() -> Self {
        Answer::Body { status: 204, content_type: String::new(), headers: Vec::new(), body: Vec::new(), cut: None }
    }

    /// A redirect to `location`, as Twilio answers a recording's media URL
    /// with its storage's.
    pub fn redirect(location: &str) -> Self {
        let headers = vec![("Location".to_owned(), location.to_owned())];
        Answer::Body { status: 302, content_type: String::new(), headers, body: Vec::new(), cut: None }
    }

    /// The same answer with one more header, e.g. `("Retry-After", "1")`.
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Answer::Reply { status, mut headers, body } => {
                headers.push((name.to_owned(), value.to_owned()));
                Answer::Reply { status, headers, body }
            }
            Answer::Body { status, content_type, mut headers, body, cut } => {
                headers.push((name.to_owned(), value.to_owned()));
                Answer::Body { status, content_type, headers, body, cut }
            }
            Answer::Silence => Answer::Silence,
        }
    }

    /// The same [`Answer::Body`], stopping short as `cut` says.
    pub fn cut(self, cut: Cut) -> Self {
        match self {
            Answer::Body { status, content_type, headers, body, .. } => {
                Answer::Body { status, content_type, headers, body, cut: Some(cut) }
            }
            other => other,
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
    /// The `Authorization` header as sent, if it was.
    pub authorization: Option<String>,
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
    let (status, content_type, headers, body, cut) = match answer {
        Some(Answer::Reply { status, headers, body }) => (status, "application/json".to_owned(), headers, body.into_bytes(), None),
        Some(Answer::Body { status, content_type, headers, body, cut }) => (status, content_type, headers, body, cut),
        Some(Answer::Silence) => return hold_open(socket).await,
        None => {
            let body = serde_json::json!({ "message": format!("the fake has no answer left for {what}") }).to_string();
            (500, "application/json".to_owned(), Vec::new(), body.into_bytes(), None)
        }
    };
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    // A 204 has no body, and HTTP forbids saying its length.
    if status != 204 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let sent = match cut {
        Some(Cut::Closed(n) | Cut::Stalled(n)) => n.min(body.len()),
        None => body.len(),
    };
    // The client may have given up already; there is no one to tell.
    let _ = socket.write_all(&[head.as_bytes(), &body[..sent]].concat()).await;
    if let Some(Cut::Stalled(_)) = cut {
        let _ = socket.flush().await;
        return hold_open(socket).await;
    }
    let _ = socket.shutdown().await;
}

/// Holds the connection open, saying nothing more, until the client gives up.
async fn hold_open(mut socket: TcpStream) {
    let mut rest = [0u8; 1024];
    while matches!(socket.read(&mut rest).await, Ok(n) if n > 0) {}
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
    let headers: Vec<(&str, &str)> = lines.filter_map(|line| line.split_once(':')).map(|(n, v)| (n.trim(), v.trim())).collect();
    let header = |wanted: &str| headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, value)| *value);
    let length = header("content-length").and_then(|value| value.parse::<usize>().ok()).unwrap_or(0);
    let authorization = header("authorization").map(str::to_owned);
    while bytes.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        bytes.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned();
    Some(Request { method, path, form: decode_form(&body), authorization })
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
