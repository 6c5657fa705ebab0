//! Placing an outbound call: `POST …/Accounts/{AC…}/Calls.json`. Twilio rings
//! `To` (the agent) from `From` (the tracking number) and, when the agent
//! answers, asks our TwiML URL what to do. Creating a call is not idempotent on
//! Twilio's side, so [`TwilioApi::place_call`] repeats only a request Twilio
//! provably did not act on.

use crate::{ApiError, TwilioApi};
use calltrack_twilio::fields::{AccountSid, CallSid, Field, PhoneNumber};
use serde::Deserialize;
use std::time::Duration;

/// The progress events our status route is told of, in Twilio's order.
const STATUS_CALLBACK_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

/// The longest a `Retry-After` makes [`TwilioApi::place_call`] wait: someone is
/// waiting for the call to ring.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A call to place. Recording is not asked for here: our TwiML's `<Dial record>` does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// Who is rung first: the agent's phone.
    pub to: PhoneNumber,
    /// The caller ID the agent sees: our tracking number.
    pub from: PhoneNumber,
    /// Our TwiML URL, requested (POST) when the agent answers.
    pub url: String,
    /// Our status route, told (POST) of each progress event.
    pub status_callback: String,
    /// How long the agent's phone rings before Twilio gives up (Twilio allows up to 600).
    pub timeout_seconds: u32,
}

impl NewCall {
    /// The form fields Twilio's description allows for them. `StatusCallbackEvent`
    /// is an array there: a form field repeated once per event, as OpenAPI's
    /// default form encoding (style form, explode) and Twilio's own examples send it.
    fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("To", self.to.as_str().to_owned()),
            ("From", self.from.as_str().to_owned()),
            ("Url", self.url.clone()),
            ("Method", "POST".to_owned()),
            ("StatusCallback", self.status_callback.clone()),
            ("StatusCallbackMethod", "POST".to_owned()),
        ];
        form.extend(STATUS_CALLBACK_EVENTS.map(|event| ("StatusCallbackEvent", event.to_owned())));
        form.push(("Timeout", self.timeout_seconds.to_string()));
        form
    }
}

/// A call Twilio created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedCall {
    /// The new call's SID, the parent call of the leg that rings the customer.
    pub sid: CallSid,
    /// Its status as Twilio answered it, normally `queued`.
    pub status: Option<String>,
}

/// The fields of Twilio's 201 answer that [`PlacedCall`] keeps.
#[derive(Deserialize)]
struct CreatedCall {
    sid: String,
    /// Read when there, never needed: a 201 without it still placed the call.
    status: Option<String>,
}

impl CreatedCall {
    fn placed(self) -> Result<PlacedCall, ApiError> {
        let sid =
            CallSid::parse("sid", &self.sid).map_err(|e| ApiError::Unexpected(format!("Twilio placed the call but its answer's {e}")))?;
        Ok(PlacedCall { sid, status: self.status })
    }
}

/// How [`TwilioApi::place_call`] repeats a request Twilio did not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Requests at most, the first included (0 counts as 1).
    pub attempts: u32,
    /// The wait after the first failed request; it doubles after each one.
    pub first_backoff: Duration,
}

impl Default for Retry {
    /// 3 requests, 250 ms then 500 ms apart.
    fn default() -> Self {
        Retry { attempts: 3, first_backoff: Duration::from_millis(250) }
    }
}

impl Retry {
    /// The wait after the `failed`-th request (from 1) failed with `err`: the
    /// doubling backoff, or Twilio's `Retry-After` (at most 5 s) when longer.
    fn wait(&self, failed: u32, err: &ApiError) -> Duration {
        let backoff = self.first_backoff.saturating_mul(1 << failed.saturating_sub(1).min(16));
        err.retry_after().map_or(backoff, |asked| backoff.max(asked.min(LONGEST_RETRY_AFTER)))
    }
}

impl TwilioApi {
    /// Asks Twilio once to place `call` in `account`. On [`ApiError::NoAnswer`]
    /// Twilio may or may not have placed it, and the error says so.
    pub async fn create_call(&self, account: &AccountSid, call: &NewCall) -> Result<PlacedCall, ApiError> {
        let url = self.url(&format!("/Accounts/{account}/Calls.json"));
        let created: CreatedCall = self.send(self.http.post(url).form(&call.form())).await.map_err(|err| match err {
            ApiError::NoAnswer(why) => ApiError::NoAnswer(format!("{why}: Twilio may or may not have placed the call")),
            // Only a 2xx answer is read, so Twilio did create the call.
            ApiError::Unexpected(why) => ApiError::Unexpected(format!("{why}; Twilio placed the call")),
            other => other,
        })?;
        created.placed()
    }

    /// Places `call` in `account`, asking again (up to `retry.attempts` times in
    /// all) only when Twilio did not act on the request: it answered 429 or
    /// 5xx, or no connection could be made. Never after a request that got no
    /// answer, which may have rung the agent already. A failure is the last
    /// request's.
    pub async fn place_call(&self, account: &AccountSid, call: &NewCall, retry: &Retry) -> Result<PlacedCall, ApiError> {
        let mut sent = 1;
        loop {
            match self.create_call(account, call).await {
                Err(err) if err.is_retryable() && sent < retry.attempts => {
                    tokio::time::sleep(retry.wait(sent, &err)).await;
                    sent += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_repeats_status_callback_event_once_per_event_and_sends_nothing_else() {
        let form = crate::testing::call_to_place().form();
        let shown: Vec<_> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("To", "+14155550100"),
                ("From", "+18005551212"),
                ("Url", "https://calls.example.com/api/twilio/voice/connect"),
                ("Method", "POST"),
                ("StatusCallback", "https://calls.example.com/api/twilio/voice/status"),
                ("StatusCallbackMethod", "POST"),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "ringing"),
                ("StatusCallbackEvent", "answered"),
                ("StatusCallbackEvent", "completed"),
                ("Timeout", "20"),
            ]
        );
    }

    #[test]
    fn the_wait_doubles_and_honours_retry_after_up_to_five_seconds() {
        let retry = Retry { attempts: 5, first_backoff: Duration::from_millis(100) };
        let unavailable = ApiError::from_answer(503, b"");
        let waits: Vec<_> = (1..=4).map(|failed| retry.wait(failed, &unavailable).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800]);
        let asked = |seconds| ApiError::from_answer(429, b"").with_retry_after(Some(Duration::from_secs(seconds)));
        assert_eq!(retry.wait(1, &asked(2)), Duration::from_secs(2));
        assert_eq!(retry.wait(1, &asked(60)), LONGEST_RETRY_AFTER, "capped: someone waits for the call");
        assert_eq!(retry.wait(1, &asked(0)), Duration::from_millis(100), "never shorter than the backoff");
        let huge = Retry { attempts: u32::MAX, first_backoff: Duration::MAX };
        assert_eq!(huge.wait(u32::MAX, &unavailable), Duration::MAX, "saturates instead of overflowing");
    }

    #[test]
    fn reads_the_descriptions_own_answer() {
        // The 201 example in Twilio's OpenAPI description, which the Prism mock answers with.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/twilio_api_v2010.json");
        let description: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let example = &description["paths"]["/2010-04-01/Accounts/{AccountSid}/Calls.json"]["post"]["responses"]["201"]["content"]["application/json"]
            ["examples"]["create"]["value"];
        let placed = serde_json::from_value::<CreatedCall>(example.clone()).unwrap().placed().unwrap();
        assert_eq!((placed.sid.as_str(), placed.status.as_deref()), ("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Some("completed")));
        let unreadable = CreatedCall { sid: "CA1".into(), status: Some("queued".into()) }.placed().unwrap_err();
        assert!(
            matches!(&unreadable, ApiError::Unexpected(why) if why.starts_with("Twilio placed the call but its answer's sid")),
            "{unreadable:?}"
        );
    }
}
