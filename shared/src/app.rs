//! The webhooks as one application. Each Lambda's `main` builds an [`App`] once
//! and hands it every request; [`App::handle`] finds the route, checks the
//! request, runs the route's handler (in `routes/`) and answers in HTTP.

use crate::error::Error;
use crate::fields::{CallSid, PhoneNumber};
use crate::metrics::Counts;
use crate::routes;
use crate::signature::Keyring;
use crate::store::Store;
use crate::tracking_number::TrackingNumber;
use crate::webhook::Webhook;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, RequestExt, Response, tracing};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Our webhook routes. `POST` is what Twilio sends by default; `GET` works too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The incoming call: answered with `<Dial>` to the business.
    Answer,
    /// The `<Dial>` outcome: hang up, or take a voicemail.
    DialResult,
    /// Read to the business before it is connected (`<Number url>`).
    Whisper,
    /// After a voicemail was left (`<Record action>`).
    Goodbye,
    /// Call status callbacks, parent and child legs.
    Status,
    /// Recording status callbacks.
    Recording,
}

impl Route {
    /// The routes the answer function serves.
    pub const ANSWER_FUNCTION: &[Route] = &[Route::Answer, Route::DialResult, Route::Whisper, Route::Goodbye];
    /// The route the status function serves.
    pub const STATUS_FUNCTION: &[Route] = &[Route::Status];
    /// The route the recording function serves.
    pub const RECORDING_FUNCTION: &[Route] = &[Route::Recording];
    /// Every route, as `calltrack serve` serves them.
    pub const ALL: &[Route] = &[Route::Answer, Route::DialResult, Route::Whisper, Route::Goodbye, Route::Status, Route::Recording];

    pub fn path(self) -> &'static str {
        match self {
            Route::Answer => "/api/twilio/voice/answer",
            Route::DialResult => "/api/twilio/voice/dial-result",
            Route::Whisper => "/api/twilio/voice/whisper",
            Route::Goodbye => "/api/twilio/voice/goodbye",
            Route::Status => "/api/twilio/voice/status",
            Route::Recording => "/api/twilio/voice/recording",
        }
    }
}

/// Settings, from the environment (see the README for each variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `PUBLIC_BASE_URL`: the URL prefix configured in Twilio. Needed behind a custom domain.
    pub public_base_url: Option<String>,
    /// `UNKNOWN_NUMBER_MESSAGE`: said before hanging up on a call to a number we do not know.
    pub unknown_number_message: String,
    /// `FALLBACK_FORWARD_TO`: where calls go when storage is down and the number was never seen.
    pub fallback_forward_to: Option<PhoneNumber>,
    /// `VOICEMAIL_PROMPT`: said before the beep.
    pub voicemail_prompt: String,
    /// `VOICEMAIL_MAX_SECONDS`: the longest voicemail.
    pub voicemail_max_seconds: u32,
    /// `DIAL_TIMEOUT_SECONDS`: how long the business's phone rings.
    pub dial_timeout_seconds: u32,
    /// `NUMBER_CACHE_SECONDS`: how long a tracking number's configuration is reused without a read.
    pub number_cache: Duration,
    /// `ANSWER_STORAGE_BUDGET_MS`: the longest the answer and dial-result routes
    /// wait on each storage call before answering the caller anyway.
    pub answer_storage_budget: Duration,
    /// The largest body accepted; Twilio's are a few KB.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_base_url: None,
            unknown_number_message: "Sorry, this number is not in service.".into(),
            fallback_forward_to: None,
            voicemail_prompt: "Sorry, nobody can take your call right now. Please leave a message after the beep.".into(),
            voicemail_max_seconds: 120,
            dial_timeout_seconds: 20,
            number_cache: Duration::from_secs(60),
            answer_storage_budget: Duration::from_millis(700),
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Config {
    /// Reads the settings from the environment; absent ones keep their defaults.
    pub fn from_env() -> Result<Self, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &'static str| -> Result<Option<u32>, Error> {
            var(name).map(|v| crate::fields::Field::parse(name, v.trim())).transpose()
        };
        let defaults = Config::default();
        Ok(Config {
            public_base_url: var("PUBLIC_BASE_URL"),
            unknown_number_message: var("UNKNOWN_NUMBER_MESSAGE").unwrap_or(defaults.unknown_number_message),
            fallback_forward_to: var("FALLBACK_FORWARD_TO").map(|v| PhoneNumber::e164("FALLBACK_FORWARD_TO", v.trim())).transpose()?,
            voicemail_prompt: var("VOICEMAIL_PROMPT").unwrap_or(defaults.voicemail_prompt),
            voicemail_max_seconds: number("VOICEMAIL_MAX_SECONDS")?.unwrap_or(defaults.voicemail_max_seconds),
            dial_timeout_seconds: number("DIAL_TIMEOUT_SECONDS")?.unwrap_or(defaults.dial_timeout_seconds),
            number_cache: number("NUMBER_CACHE_SECONDS")?.map_or(defaults.number_cache, |s| Duration::from_secs(s.into())),
            answer_storage_budget: number("ANSWER_STORAGE_BUDGET_MS")?
                .map_or(defaults.answer_storage_budget, |ms| Duration::from_millis(ms.into())),
            max_body_bytes: defaults.max_body_bytes,
        })
    }
}

/// The webhooks, with what they need: storage, secrets, settings, and the
/// tracking numbers seen lately.
pub struct App<S> {
    pub store: S,
    pub keys: Keyring,
    pub config: Config,
    /// Names the function in logs and metrics.
    pub function: &'static str,
    numbers: Mutex<HashMap<PhoneNumber, (TrackingNumber, Instant)>>,
}

/// What a tracking number lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Known(TrackingNumber),
    /// Storage failed; this is the configuration last read.
    LastKnown(TrackingNumber),
    Unknown,
    /// Storage failed and the number was never read by this function.
    StorageDown,
}

impl Lookup {
    pub fn number(&self) -> Option<&TrackingNumber> {
        match self {
            Lookup::Known(n) | Lookup::LastKnown(n) => Some(n),
            Lookup::Unknown | Lookup::StorageDown => None,
        }
    }
}

/// A route's answer, and what to log about it.
pub struct Handled {
    pub response: Response<Body>,
    pub call_sid: Option<CallSid>,
    pub outcome: &'static str,
    pub counts: Counts,
}

impl<S: Store> App<S> {
    pub fn new(store: S, keys: Keyring, config: Config, function: &'static str) -> Self {
        App { store, keys, config, function, numbers: Mutex::default() }
    }

    /// Answers one request to one of `routes`: the route's own answer, or 404,
    /// 405, 413, 403 (nothing written, nothing echoed), 400 or 415 with a
    /// one-line reason, or 503 when storage failed where a redelivery can repair
    /// it. Logs one line and emits its metrics.
    pub async fn handle(&self, routes: &[Route], request: &lambda_http::Request) -> Response<Body> {
        let started = Instant::now();
        let path = Some(request.raw_http_path()).filter(|p| !p.is_empty()).unwrap_or(request.uri().path());
        let route = routes.iter().copied().find(|r| path.trim_end_matches('/').ends_with(r.path()));
        let handled = match route {
            None => plain(StatusCode::NOT_FOUND, "no such route"),
            Some(route) => self.handle_route(route, request).await.unwrap_or_else(|err| self.refusal(err)),
        };
        let logged_route: &str = match route {
            Some(route) => route.path(),
            None => path,
        };
        tracing::info!(
            route = logged_route,
            call_sid = handled.call_sid.as_ref().map(CallSid::as_str),
            status = handled.response.status().as_u16(),
            outcome = handled.outcome,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "webhook"
        );
        handled.counts.emit(self.function);
        handled.response
    }

    async fn handle_route(&self, route: Route, request: &lambda_http::Request) -> Result<Handled, Error> {
        if request.body().len() > self.config.max_body_bytes {
            return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
        }
        let hook = Webhook::from_lambda(request, self.config.public_base_url.as_deref())?;
        hook.verify(&self.keys)?;
        let prefix = callback_prefix(&hook.url, route).to_owned();
        let now = now_ms();
        match route {
            Route::Answer => routes::answer::handle(self, hook, &prefix, now).await,
            Route::DialResult => routes::dial_result::handle(self, hook, &prefix, now).await,
            Route::Whisper => routes::whisper::handle(&hook),
            Route::Goodbye => Ok(routes::goodbye::handle()),
            Route::Status => routes::status::handle(self, hook, now).await,
            Route::Recording => routes::recording::handle(self, hook, now).await,
        }
    }

    /// The answer to a refused request. A 403 says nothing; others say why in one line.
    fn refusal(&self, err: Error) -> Handled {
        let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        match &err {
            Error::BadSignature(reason) => {
                tracing::warn!(reason, "signature refused");
                Handled { counts: Counts { signature_rejections: 1, ..Counts::default() }, ..plain(status, "") }
            }
            Error::Storage(reason) => {
                tracing::error!(reason, "storage failed");
                Handled { counts: Counts { storage_errors: 1, ..Counts::default() }, ..plain(status, "storage unavailable; retry later") }
            }
            Error::MethodNotAllowed(_) => {
                let mut handled = plain(status, &err.to_string());
                handled.response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST, GET"));
                handled
            }
            _ => plain(status, &err.to_string()),
        }
    }

    /// A tracking number's configuration: from memory when read lately, else
    /// from storage within the answer budget, else the last one read.
    pub async fn lookup_number(&self, number: &PhoneNumber) -> Lookup {
        let remembered = self.numbers.lock().expect("not poisoned").get(number).cloned();
        if let Some((config, read_at)) = &remembered
            && read_at.elapsed() < self.config.number_cache
        {
            return Lookup::Known(config.clone());
        }
        match tokio::time::timeout(self.config.answer_storage_budget, self.store.tracking_number(number)).await {
            Ok(Ok(Some(config))) => {
                self.numbers.lock().expect("not poisoned").insert(number.clone(), (config.clone(), Instant::now()));
                Lookup::Known(config)
            }
            Ok(Ok(None)) => {
                self.numbers.lock().expect("not poisoned").remove(number);
                Lookup::Unknown
            }
            failed => {
                let reason = failed.map_or_else(|_| "timed out".to_owned(), |r| r.err().map(|e| e.to_string()).unwrap_or_default());
                tracing::error!(reason, number = mask(number.as_str()), "tracking number lookup failed");
                remembered.map_or(Lookup::StorageDown, |(config, _)| Lookup::LastKnown(config))
            }
        }
    }
}

/// The URL prefix our callbacks go to: the public URL Twilio used, up to the route.
fn callback_prefix(url: &str, route: Route) -> &str {
    url.find(route.path()).map_or(url, |at| &url[..at])
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A plain-text answer (empty for an empty `text`).
pub fn plain(status: StatusCode, text: &str) -> Handled {
    let body = if text.is_empty() { Body::Empty } else { Body::Text(format!("{text}\n")) };
    let mut response = Response::builder().status(status);
    if !text.is_empty() {
        response = response.header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    let outcome = if status.is_client_error() { "refused" } else { "failed" };
    Handled { response: response.body(body).expect("a valid response"), call_sid: None, outcome, counts: Counts::default() }
}

/// A TwiML answer.
pub fn twiml(xml: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(Body::Text(xml))
        .expect("a valid response")
}

/// `204 No Content`: what Twilio wants from status and recording callbacks.
pub fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a valid response")
}

/// A phone number for logs: the country code and last two digits only.
pub fn mask(number: &str) -> String {
    if !number.starts_with('+') || number.len() < 7 {
        return number.chars().map(|c| if c.is_ascii_digit() { '*' } else { c }).collect();
    }
    let (head, tail) = (&number[..3], &number[number.len() - 2..]);
    format!("{head}{}{tail}", "*".repeat(number.len() - 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_numbers_keep_only_their_ends() {
        assert_eq!(mask("+12125550199"), "+12*******99");
        assert_eq!(mask("+44207"), "+*****");
        assert_eq!(mask("Anonymous"), "Anonymous");
    }

    #[test]
    fn callback_prefix_is_the_public_url_up_to_the_route() {
        let url = "https://calls.example.com/twilio/api/twilio/voice/answer?userId=u1";
        assert_eq!(callback_prefix(url, Route::Answer), "https://calls.example.com/twilio");
    }
}
