//! Our webhook routes, and which function serves which.

/// Twilio's connection overrides on every callback URL we give it (the
/// `<Dial>` and `<Record>` callbacks, and the two URLs pasted into its
/// console): up to 3 retries on a 5xx, a connection failure or a read
/// timeout. Without them Twilio retries a connection failure once, and never
/// a 5xx (docs/twilio-webhooks.md#retries-and-connection-overrides).
pub const CONNECTION_OVERRIDES: &str = "rc=3&rp=5xx,ct,rt";

/// Our webhook routes. `POST` is what Twilio sends by default; `GET` works too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The incoming call: answered with `<Dial>` to the business.
    Answer,
    /// The `<Dial>` outcome: hang up, or take a voicemail.
    DialResult,
    /// Read to the business before it is connected (`<Number url>`).
    Whisper,
    /// A screened call's business side (`<Number url>`): the whisper, "press
    /// 1", and the key pressed.
    Screen,
    /// A call placed through our API reached the agent: "press 1", then
    /// `<Dial>` the customer.
    Connect,
    /// After a voicemail was left (`<Record action>`).
    Goodbye,
    /// Call status callbacks, parent and child legs.
    Status,
    /// Recording status callbacks.
    Recording,
}

impl Route {
    /// The routes the answer function serves.
    pub const ANSWER_FUNCTION: &[Route] =
        &[Route::Answer, Route::DialResult, Route::Whisper, Route::Screen, Route::Connect, Route::Goodbye];
    /// The route the status function serves.
    pub const STATUS_FUNCTION: &[Route] = &[Route::Status];
    /// The route the recording function serves.
    pub const RECORDING_FUNCTION: &[Route] = &[Route::Recording];
    /// Every route, as `calltrack serve` serves them.
    pub const ALL: &[Route] =
        &[Route::Answer, Route::DialResult, Route::Whisper, Route::Screen, Route::Connect, Route::Goodbye, Route::Status, Route::Recording];

    pub fn path(self) -> &'static str {
        match self {
            Route::Answer => "/api/twilio/voice/answer",
            Route::DialResult => "/api/twilio/voice/dial-result",
            Route::Whisper => "/api/twilio/voice/whisper",
            Route::Screen => "/api/twilio/voice/screen",
            Route::Connect => "/api/twilio/voice/connect",
            Route::Goodbye => "/api/twilio/voice/goodbye",
            Route::Status => "/api/twilio/voice/status",
            Route::Recording => "/api/twilio/voice/recording",
        }
    }

    /// The URL to give Twilio for this route of the stack at `base_url`,
    /// with the connection overrides that make Twilio retry.
    pub fn twilio_url(self, base_url: &str) -> String {
        self.twilio_url_with_query(base_url, "")
    }

    /// [`Route::twilio_url`] with a query (`customer=…`; empty for none), which
    /// goes before the fragment and which Twilio's signature covers.
    pub fn twilio_url_with_query(self, base_url: &str, query: &str) -> String {
        let separator = if query.is_empty() { "" } else { "?" };
        format!("{}{}{separator}{query}#{CONNECTION_OVERRIDES}", base_url.trim_end_matches('/'), self.path())
    }

    /// Which of `routes` a request's path asks for.
    pub fn find(routes: &[Route], path: &str) -> Option<Route> {
        routes.iter().copied().find(|r| path.trim_end_matches('/').ends_with(r.path()))
    }
}
