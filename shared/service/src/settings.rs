//! Settings: one type for every function and the command line, read from the
//! environment (the README lists each variable). Each default is written here
//! once; the command line's flags override what they name.

use calltrack_dynamo::TableNames;
use calltrack_twilio::Error;
use calltrack_twilio::fields::{Field, PhoneNumber};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `PUBLIC_BASE_URL`: the URL prefix configured in Twilio. Needed behind a custom domain.
    pub public_base_url: Option<String>,
    /// `UNKNOWN_NUMBER_MESSAGE`: said before hanging up on a call to a number we do not know.
    pub unknown_number_message: String,
    /// `FALLBACK_FORWARD_TO`: where calls go when storage is down and the number was never seen.
    pub fallback_forward_to: Option<PhoneNumber>,
    /// `VOICEMAIL_PROMPT`: said before the beep.
    pub voicemail_prompt: String,
    /// `SCREEN_PROMPT`: said to the business, after the whisper, on a call to a
    /// number that screens.
    pub screen_prompt: String,
    /// `CONNECT_PROMPT`: said to the agent who answers a call placed through
    /// the API, before the customer is dialled.
    pub connect_prompt: String,
    /// `OUTBOUND_CALLS_PER_SECOND`: how many calls a tenant may place through
    /// the API each second (Twilio places about one a second per account).
    pub outbound_calls_per_second: u32,
    /// `TWILIO_API_KEY_PARAMETER`: the SSM parameter (SecureString) holding the
    /// Twilio API key calls are placed with; without one, the API places none.
    pub twilio_api_key_parameter: Option<String>,
    /// `TWILIO_API_BASE_URL`: Twilio's REST API, when not Twilio's own (a mock in tests).
    pub twilio_api_base_url: Option<String>,
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
    /// `CALLS_TABLE`, `CALL_EVENTS_TABLE`, `TRACKING_NUMBERS_TABLE`, `CALL_INDEX_TABLE`.
    pub tables: TableNames,
    /// `EVENT_RETENTION_DAYS`: how long raw callbacks are kept.
    pub event_retention: Duration,
    /// `CALLBACK_QUEUE_URL`: the SQS queue that callbacks go to when storage
    /// cannot take them. Without one, they are answered `503`.
    pub callback_queue_url: Option<String>,
    /// `STORAGE_DEADLINE_MS`: the longest the status and recording routes spend
    /// on storage before they queue the callback instead; with the queue's own
    /// timeouts, every answer leaves well inside Twilio's 15 s.
    pub storage_deadline: Duration,
    /// `REPLAY_BACKOFF_SECONDS`: how long a queued callback that could not be
    /// applied waits before its next try, doubled each time (at most 15 minutes).
    pub replay_backoff: Duration,
    /// `RECORDING_BUCKET`: the S3 bucket recordings are copied into, from
    /// Twilio, once finished. Unset: recordings stay at Twilio only.
    pub recording_bucket: Option<String>,
    /// `DELETE_RECORDINGS_FROM_TWILIO` (`true`): once a recording is in our
    /// bucket, delete Twilio's copy (Twilio then stops charging for it).
    pub delete_recordings_from_twilio: bool,
    /// `RECORDING_LINK_SECONDS`: how long a link from
    /// `GET /api/calls/{callSid}/recording` plays.
    pub recording_link: Duration,
    /// How long one recording's copy may take before it is tried again later.
    pub copy_deadline: Duration,
    /// `WEBHOOK_QUEUE_URL`: the queue of webhook deliveries to tenants'
    /// endpoints. Unset: no webhooks are sent.
    pub webhook_queue_url: Option<String>,
    /// `WEBHOOK_BACKOFF_SECONDS` (comma-separated): how long a delivery that
    /// failed its nth attempt waits before the next; after the last, it goes
    /// to the dead-letter queue. The default is Standard Webhooks' schedule
    /// (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): 8 attempts over 27.6 hours.
    /// template.yaml's WebhookQueue takes one receive more than it has waits.
    pub webhook_backoff: Vec<Duration>,
    /// Webhook endpoints may be on this machine (`localhost`): `calltrack
    /// serve` only, never read from the environment, as a deployed function's
    /// localhost is the Lambda runtime's own API.
    pub local_webhooks: bool,
    /// Which claims of the API's JWTs name the caller's tenant, user and role.
    pub claims: ClaimNames,
}

/// The names of the JWT claims the API reads, as the identity provider issues
/// them (Cognito: `custom:tenant_id`, `sub`, `cognito:groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// `TENANT_CLAIM`: the tenant whose data the token may see.
    pub tenant: String,
    /// `USER_CLAIM`: the user, as tracking numbers name their owner.
    pub user: String,
    /// `ROLE_CLAIM`: the role, or a list of groups.
    pub role: String,
    /// `ADMIN_ROLE`: the role (or group) that may change a tenant's settings.
    pub admin_role: String,
}

const DAY: Duration = Duration::from_secs(86_400);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_base_url: None,
            unknown_number_message: "Sorry, this number is not in service.".into(),
            fallback_forward_to: None,
            voicemail_prompt: "Sorry, nobody can take your call right now. Please leave a message after the beep.".into(),
            screen_prompt: "Press 1 to take this call.".into(),
            connect_prompt: "Press 1 to place your call.".into(),
            outbound_calls_per_second: 1,
            twilio_api_key_parameter: None,
            twilio_api_base_url: None,
            voicemail_max_seconds: 120,
            dial_timeout_seconds: 20,
            number_cache: Duration::from_secs(60),
            answer_storage_budget: Duration::from_millis(700),
            max_body_bytes: 64 * 1024,
            tables: TableNames::with_prefix("calltrack-"),
            event_retention: DAY * 90,
            callback_queue_url: None,
            storage_deadline: Duration::from_secs(4),
            replay_backoff: Duration::from_secs(10),
            recording_bucket: None,
            delete_recordings_from_twilio: false,
            recording_link: Duration::from_secs(600),
            copy_deadline: Duration::from_secs(60),
            webhook_queue_url: None,
            webhook_backoff: [5, 300, 1800, 7200, 18_000, 36_000, 36_000].map(Duration::from_secs).to_vec(),
            local_webhooks: false,
            claims: ClaimNames {
                tenant: "custom:tenant_id".into(),
                user: "sub".into(),
                role: "cognito:groups".into(),
                admin_role: "admin".into(),
            },
        }
    }
}

impl Settings {
    /// Reads the settings from the environment; absent or empty ones keep
    /// their defaults. A malformed one is refused, naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings from `var`, which looks a variable up by name.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let number = |name: &'static str| -> Result<Option<u32>, Error> { var(name).map(|v| u32::parse(name, &v)).transpose() };
        let flag = |name: &'static str| -> Result<Option<bool>, Error> {
            match var(name).as_deref() {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(other) => Err(Error::invalid(name, format!("is {other:?}, not true or false"))),
            }
        };
        let defaults = Settings::default();
        Ok(Settings {
            public_base_url: var("PUBLIC_BASE_URL"),
            unknown_number_message: var("UNKNOWN_NUMBER_MESSAGE").unwrap_or(defaults.unknown_number_message),
            fallback_forward_to: var("FALLBACK_FORWARD_TO").map(|v| PhoneNumber::e164("FALLBACK_FORWARD_TO", &v)).transpose()?,
            voicemail_prompt: var("VOICEMAIL_PROMPT").unwrap_or(defaults.voicemail_prompt),
            screen_prompt: var("SCREEN_PROMPT").unwrap_or(defaults.screen_prompt),
            connect_prompt: var("CONNECT_PROMPT").unwrap_or(defaults.connect_prompt),
            outbound_calls_per_second: number("OUTBOUND_CALLS_PER_SECOND")?.unwrap_or(defaults.outbound_calls_per_second),
            twilio_api_key_parameter: var("TWILIO_API_KEY_PARAMETER"),
            twilio_api_base_url: var("TWILIO_API_BASE_URL"),
            voicemail_max_seconds: number("VOICEMAIL_MAX_SECONDS")?.unwrap_or(defaults.voicemail_max_seconds),
            dial_timeout_seconds: number("DIAL_TIMEOUT_SECONDS")?.unwrap_or(defaults.dial_timeout_seconds),
            number_cache: number("NUMBER_CACHE_SECONDS")?.map_or(defaults.number_cache, |s| Duration::from_secs(s.into())),
            answer_storage_budget: number("ANSWER_STORAGE_BUDGET_MS")?
                .map_or(defaults.answer_storage_budget, |ms| Duration::from_millis(ms.into())),
            max_body_bytes: defaults.max_body_bytes,
            tables: TableNames {
                calls: var("CALLS_TABLE").unwrap_or(defaults.tables.calls),
                events: var("CALL_EVENTS_TABLE").unwrap_or(defaults.tables.events),
                numbers: var("TRACKING_NUMBERS_TABLE").unwrap_or(defaults.tables.numbers),
                index: var("CALL_INDEX_TABLE").unwrap_or(defaults.tables.index),
            },
            event_retention: number("EVENT_RETENTION_DAYS")?.map_or(defaults.event_retention, |days| DAY * days),
            callback_queue_url: var("CALLBACK_QUEUE_URL"),
            storage_deadline: number("STORAGE_DEADLINE_MS")?.map_or(defaults.storage_deadline, |ms| Duration::from_millis(ms.into())),
            replay_backoff: number("REPLAY_BACKOFF_SECONDS")?.map_or(defaults.replay_backoff, |s| Duration::from_secs(s.into())),
            recording_bucket: var("RECORDING_BUCKET"),
            delete_recordings_from_twilio: flag("DELETE_RECORDINGS_FROM_TWILIO")?.unwrap_or(defaults.delete_recordings_from_twilio),
            recording_link: match number("RECORDING_LINK_SECONDS")? {
                // A presigned link lives at most a week (SigV4): any longer and every link would fail.
                Some(s) if s > 604_800 => {
                    return Err(Error::invalid("RECORDING_LINK_SECONDS", format!("is {s}; a link lives at most 604800 s")));
                }
                Some(s) => Duration::from_secs(s.into()),
                None => defaults.recording_link,
            },
            copy_deadline: defaults.copy_deadline,
            local_webhooks: defaults.local_webhooks,
            webhook_queue_url: var("WEBHOOK_QUEUE_URL"),
            webhook_backoff: match var("WEBHOOK_BACKOFF_SECONDS") {
                None => defaults.webhook_backoff,
                Some(list) => list
                    .split(',')
                    .map(|s| u32::parse("WEBHOOK_BACKOFF_SECONDS", s.trim()).map(|s| Duration::from_secs(s.into())))
                    .collect::<Result<_, _>>()?,
            },
            claims: ClaimNames {
                tenant: var("TENANT_CLAIM").unwrap_or(defaults.claims.tenant),
                user: var("USER_CLAIM").unwrap_or(defaults.claims.user),
                role: var("ROLE_CLAIM").unwrap_or(defaults.claims.role),
                admin_role: var("ADMIN_ROLE").unwrap_or(defaults.claims.admin_role),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_empty_variables_keep_the_defaults() {
        assert_eq!(Settings::from_vars(|_| None), Ok(Settings::default()));
        assert_eq!(Settings::from_vars(|_| Some("  ".into())), Ok(Settings::default()));
    }

    #[test]
    fn each_variable_sets_its_setting() {
        let vars = |name: &str| {
            let value = match name {
                "PUBLIC_BASE_URL" => "https://calls.example.com",
                "FALLBACK_FORWARD_TO" => "+14155550123",
                "NUMBER_CACHE_SECONDS" => "5",
                "ANSWER_STORAGE_BUDGET_MS" => "250",
                "CALLS_TABLE" => "prod-calls",
                "EVENT_RETENTION_DAYS" => "7",
                "CALLBACK_QUEUE_URL" => "https://sqs.us-east-1.amazonaws.com/123456789012/calltrack-callbacks",
                "STORAGE_DEADLINE_MS" => "3000",
                "REPLAY_BACKOFF_SECONDS" => "2",
                "RECORDING_BUCKET" => "acme-recordings",
                "DELETE_RECORDINGS_FROM_TWILIO" => "true",
                "RECORDING_LINK_SECONDS" => "60",
                "WEBHOOK_QUEUE_URL" => "https://sqs.us-east-1.amazonaws.com/123456789012/calltrack-webhooks",
                "WEBHOOK_BACKOFF_SECONDS" => "1, 2,4",
                "TENANT_CLAIM" => "org_id",
                "SCREEN_PROMPT" => "Pulse 1 para aceptar.",
                "ADMIN_ROLE" => "owner",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let settings = Settings::from_vars(vars).unwrap();
        assert_eq!(settings.public_base_url.as_deref(), Some("https://calls.example.com"));
        assert_eq!(settings.fallback_forward_to.unwrap().as_str(), "+14155550123");
        assert_eq!((settings.number_cache, settings.answer_storage_budget), (Duration::from_secs(5), Duration::from_millis(250)));
        assert_eq!((settings.tables.calls.as_str(), settings.tables.events.as_str()), ("prod-calls", "calltrack-call-events"));
        assert_eq!(settings.event_retention, DAY * 7);
        assert_eq!(settings.screen_prompt, "Pulse 1 para aceptar.");
        assert_eq!(settings.callback_queue_url.as_deref(), Some("https://sqs.us-east-1.amazonaws.com/123456789012/calltrack-callbacks"));
        assert_eq!((settings.storage_deadline, settings.replay_backoff), (Duration::from_secs(3), Duration::from_secs(2)));
        assert_eq!(settings.recording_bucket.as_deref(), Some("acme-recordings"));
        assert_eq!((settings.delete_recordings_from_twilio, settings.recording_link), (true, Duration::from_secs(60)));
        assert!(settings.webhook_queue_url.is_some_and(|url| url.ends_with("/calltrack-webhooks")));
        assert_eq!(settings.webhook_backoff, [1, 2, 4].map(Duration::from_secs));
        let claims = &settings.claims;
        assert_eq!(
            (claims.tenant.as_str(), claims.user.as_str(), claims.role.as_str(), claims.admin_role.as_str()),
            ("org_id", "sub", "cognito:groups", "owner")
        );
    }

    #[test]
    fn a_malformed_variable_is_refused_by_name() {
        let err = Settings::from_vars(|name| (name == "DIAL_TIMEOUT_SECONDS").then(|| "20s".into())).unwrap_err();
        assert_eq!(err.to_string(), r#"DIAL_TIMEOUT_SECONDS is not a whole number: "20s""#);
        let err = Settings::from_vars(|name| (name == "FALLBACK_FORWARD_TO").then(|| "555-0123".into())).unwrap_err();
        assert!(err.to_string().starts_with("FALLBACK_FORWARD_TO is not an E.164 phone number"), "{err}");
        let err = Settings::from_vars(|name| (name == "DELETE_RECORDINGS_FROM_TWILIO").then(|| "yes".into())).unwrap_err();
        assert_eq!(err.to_string(), r#"DELETE_RECORDINGS_FROM_TWILIO is "yes", not true or false"#);
        let err = Settings::from_vars(|name| (name == "WEBHOOK_BACKOFF_SECONDS").then(|| "5,5m".into())).unwrap_err();
        assert_eq!(err.to_string(), r#"WEBHOOK_BACKOFF_SECONDS is not a whole number: "5m""#);
        let err = Settings::from_vars(|name| (name == "RECORDING_LINK_SECONDS").then(|| "604801".into())).unwrap_err();
        assert_eq!(err.to_string(), "RECORDING_LINK_SECONDS is 604801; a link lives at most 604800 s");
    }
}
