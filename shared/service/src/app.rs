//! The webhooks as one application. Each Lambda's `main` builds an [`App`] once
//! and hands it every request; [`App::handle`] finds the route, checks the
//! request (size, then the body, then the signature), runs the route (in
//! `routes/`), and logs and counts what became of it.

use crate::context::Context;
use crate::defer::{Defer, NoQueue};
use crate::numbers::NumberCache;
use crate::reply::Handled;
use crate::request::webhook_of;
use crate::route::{CONNECTION_OVERRIDES, Route};
use crate::routes;
use crate::settings::Settings;
use calltrack_core::ports::{LookUpNumbers, ReadCalls, RecordCalls};
use calltrack_twilio::fields::CallSid;
use calltrack_twilio::{Error, Keyring, Webhook};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, RequestExt, Response, tracing};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The webhooks, with what they need: storage, the queue for what storage
/// cannot take, secrets, settings, and the tracking numbers seen lately.
pub struct App<S> {
    store: S,
    queue: Box<dyn Defer>,
    keys: Keyring,
    settings: Settings,
    /// Names the function in logs and metrics.
    function: &'static str,
    numbers: NumberCache,
}

impl<S> App<S> {
    pub fn new(store: S, keys: Keyring, settings: Settings, function: &'static str) -> Self {
        App { store, queue: Box::new(NoQueue), keys, settings, function, numbers: NumberCache::default() }
    }

    /// The app with a queue for the callbacks storage cannot take (without
    /// one, they are answered `503`).
    pub fn with_queue(self, queue: impl Defer + 'static) -> Self {
        App { queue: Box::new(queue), ..self }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The function's name, as logs and metrics give it.
    pub fn function(&self) -> &'static str {
        self.function
    }
}

impl<S: RecordCalls + LookUpNumbers + ReadCalls> App<S> {
    /// Answers one request to one of `routes`: the route's own answer, or 404,
    /// 405, 413, 403 (nothing written, nothing echoed), 400 or 415 with a
    /// one-line reason, or 503 when storage failed where a redelivery can repair
    /// it. Logs one line and emits its metrics.
    pub async fn handle(&self, routes: &[Route], request: &lambda_http::Request) -> Response<Body> {
        let started = Instant::now();
        let path = Some(request.raw_http_path()).filter(|p| !p.is_empty()).unwrap_or(request.uri().path());
        let route = Route::find(routes, path);
        let handled = match route {
            None => Handled::plain(StatusCode::NOT_FOUND, "no such route"),
            Some(route) => self.handle_route(route, request).await.unwrap_or_else(refusal),
        };
        let logged_route: &str = match route {
            Some(route) => route.path(),
            None => path,
        };
        tracing::info!(
            route = logged_route,
            call_sid = handled.call_sid.as_ref().map(CallSid::as_str),
            status = handled.response.status().as_u16(),
            outcome = handled.outcome.as_str(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "webhook"
        );
        handled.counts.emit(self.function);
        handled.response
    }

    async fn handle_route(&self, route: Route, request: &lambda_http::Request) -> Result<Handled, Error> {
        if request.body().len() > self.settings.max_body_bytes {
            return Ok(Handled::plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
        }
        let hook = webhook_of(request, self.settings.public_base_url.as_deref())?;
        verify(&hook, &self.keys)?;
        let base = callback_base(&hook.url, route).to_owned();
        let cx = Context {
            store: &self.store,
            settings: &self.settings,
            numbers: &self.numbers,
            callback_base: &base,
            now: now_ms(),
            queue: self.queue.as_ref(),
        };
        match route {
            Route::Answer => routes::answer::handle(&cx, hook).await,
            Route::DialResult => routes::dial_result::handle(&cx, hook).await,
            Route::Whisper => routes::whisper::handle(&hook),
            Route::Screen => routes::screen::handle(&cx, &hook),
            Route::Connect => routes::connect::handle(&cx, &hook),
            Route::Goodbye => Ok(routes::goodbye::handle()),
            Route::Status => routes::status::handle(&cx, hook).await,
            Route::Recording => routes::recording::handle(&cx, hook).await,
        }
    }
}

/// The answer to a refused request: one place maps every refusal to HTTP. A
/// 403 says nothing; others say why in one line.
fn refusal(err: Error) -> Handled {
    let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    match &err {
        Error::BadSignature(reason) => {
            tracing::warn!(reason, "signature refused");
            let mut handled = Handled::plain(status, "");
            handled.counts.signature_rejections = 1;
            handled
        }
        Error::MethodNotAllowed(_) => {
            let mut handled = Handled::plain(status, &err.to_string());
            handled.response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST, GET"));
            handled
        }
        _ => Handled::plain(status, &err.to_string()),
    }
}

/// Checks the signature on the URL as received and, failing that, on the URL
/// as we gave it to Twilio, with our connection overrides: API Gateway never
/// sees a URL's fragment, and whether Twilio signs it is not documented. No
/// other fragment is accepted.
fn verify(hook: &Webhook, keys: &Keyring) -> Result<(), Error> {
    match hook.verify(keys) {
        Err(Error::BadSignature(_)) if !hook.url.contains('#') => hook.verify_at(keys, &format!("{}#{CONNECTION_OVERRIDES}", hook.url)),
        checked => checked,
    }
}

/// The URL prefix our callbacks go to: the public URL Twilio used, up to the route.
fn callback_base(url: &str, route: Route) -> &str {
    url.find(route.path()).map_or(url, |at| &url[..at])
}

/// Now, in ms since the epoch: what the routes and the API stamp what they store with.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_base_is_the_public_url_up_to_the_route() {
        let url = "https://calls.example.com/twilio/api/twilio/voice/answer?userId=u1";
        assert_eq!(callback_base(url, Route::Answer), "https://calls.example.com/twilio");
    }
}
