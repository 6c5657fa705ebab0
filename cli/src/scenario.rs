//! The simulated calls. For each scenario, the webhooks Twilio sends for one
//! call and what storage must hold once they are delivered, both built from the
//! same numbers so that the two cannot disagree: `simulate` delivers the
//! webhooks, `verify` checks storage against the expectation.

use calltrack_core::crm::CrmLinks;
use calltrack_core::qualification::DEFAULT_MIN_TALK_SECONDS;
use calltrack_service::Route;
use calltrack_twilio::fields::{DialCallStatus, PhoneNumber};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

/// How the simulated call goes.
// clap shows these doc comments as `--scenario`'s help; they retell the seconds below.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The business answers and talks 45 s (a qualified lead)
    Answered,
    /// The business answers and talks 12 s (too short)
    Short,
    /// Nobody answers and the caller leaves no message
    NoAnswer,
    /// Nobody answers and the caller leaves a 20 s voicemail
    Voicemail,
    /// The business's line is busy
    Busy,
    /// Each of the above in turn, call after call
    Mixed,
    /// A call placed with `calltrack call` or POST /api/calls (--call-sid): the
    /// agent answers and presses 1, and the customer talks 45 s
    Outbound,
}

impl Scenario {
    const EACH: [Scenario; 5] = [Scenario::Answered, Scenario::Short, Scenario::NoAnswer, Scenario::Voicemail, Scenario::Busy];

    /// The scenario of the `n`th call.
    pub fn of_call(self, n: u32) -> Scenario {
        match self {
            Scenario::Mixed => Scenario::EACH[n as usize % Scenario::EACH.len()],
            one => one,
        }
    }

    /// How the `<Dial>` to the business ends.
    fn dial_status(self) -> DialCallStatus {
        match self {
            Scenario::Answered | Scenario::Short | Scenario::Outbound => DialCallStatus::Completed,
            Scenario::NoAnswer | Scenario::Voicemail => DialCallStatus::NoAnswer,
            Scenario::Busy => DialCallStatus::Busy,
            Scenario::Mixed => unreachable!("a call plays one scenario"),
        }
    }

    /// How long the business and the caller talk, when the business answers.
    fn talk_seconds(self) -> Option<u32> {
        match self {
            Scenario::Answered | Scenario::Outbound => Some(45),
            Scenario::Short => Some(12),
            _ => None,
        }
    }

    /// How long the caller's message is, when they leave one.
    fn voicemail_seconds(self) -> Option<u32> {
        (self == Scenario::Voicemail).then_some(20)
    }
}

/// The Twilio account simulated calls are in, unless told another.
pub const ACCOUNT: &str = "AC00000000000000000000000000000000";

/// The caller's name, as Twilio's caller ID lookup gives it.
pub const CALLER_NAME: &str = "Simulated Caller";

/// The SIDs of one simulated call.
pub struct Sids {
    call: String,
    child: String,
    recording: String,
}

impl Sids {
    /// The `n`th call's, unique to the run that `random` and `seed` stand for.
    pub fn new(random: &RandomState, seed: u128, n: u32) -> Self {
        let hex = |tag: u8| format!("{:016x}{:016x}", random.hash_one((seed, n, tag)), random.hash_one((tag, n, seed)));
        Sids { call: format!("CA{}", hex(1)), child: format!("CA{}", hex(2)), recording: format!("RE{}", hex(3)) }
    }
}

/// One webhook Twilio sends: a form to one of our routes, whose URL may have
/// a query of ours (a placed call's).
#[derive(Clone)]
pub struct Webhook {
    pub call_sid: String,
    pub route: Route,
    pub query: String,
    pub params: Vec<(&'static str, String)>,
}

/// One simulated call: what Twilio sends for it and what storage must then hold.
pub struct Call {
    /// In Twilio's order.
    pub webhooks: Vec<Webhook>,
    pub expected: Expected,
}

impl Call {
    /// A call of `scenario` in Twilio account `account`, from `from` to the tracking number `to`.
    pub fn new(scenario: Scenario, sids: Sids, account: &str, from: &str, to: &str) -> Call {
        let webhooks = script(scenario, &sids, account, from, to);
        Call::expecting(scenario, sids, webhooks, None)
    }

    /// The call placed through our API as `placed` says (its SID is `placed.call_sid`), in `account`:
    /// the agent answers and presses 1, and the customer talks.
    pub fn placed(placed: &Placed, account: &str) -> Call {
        let sids = Sids { call: placed.call_sid.clone(), child: format!("CA{:0>32}", "c1d"), recording: format!("RE{:0>32}", "5ec") };
        let webhooks = outbound_script(&sids, account, placed);
        Call::expecting(Scenario::Outbound, sids, webhooks, Some(placed.user_id.clone()))
    }

    fn expecting(scenario: Scenario, sids: Sids, webhooks: Vec<Webhook>, placed_by: Option<String>) -> Call {
        let recorded = webhooks.iter().any(|w| w.route == Route::Recording);
        let expected = Expected {
            placed_by,
            scenario,
            dial_status: scenario.dial_status(),
            talk_seconds: scenario.talk_seconds(),
            voicemail: scenario.voicemail_seconds().is_some(),
            recording_sid: recorded.then_some(sids.recording),
            callbacks: webhooks.iter().filter(|w| matches!(w.route, Route::Status | Route::Recording)).count(),
            call_sid: sids.call,
        };
        Call { webhooks, expected }
    }
}

/// A call placed through our API, as stored: what its webhooks carry.
pub struct Placed {
    pub call_sid: String,
    pub tracking_number: PhoneNumber,
    /// The agent's phone, rung first: the number's forward-to unless the request named another.
    pub agent: PhoneNumber,
    pub customer: PhoneNumber,
    pub user_id: String,
    pub crm: BTreeMap<String, String>,
}

/// What storage must hold for one simulated call once all its webhooks are delivered.
pub struct Expected {
    /// The user who placed it, for a call placed through our API.
    pub placed_by: Option<String>,
    pub call_sid: String,
    pub scenario: Scenario,
    pub dial_status: DialCallStatus,
    pub talk_seconds: Option<u32>,
    pub voicemail: bool,
    /// The recording's SID, when a recording callback was sent.
    pub recording_sid: Option<String>,
    /// How many distinct status and recording callbacks: each must be stored once as an event.
    pub callbacks: usize,
}

impl Expected {
    /// Whether the call is a qualified lead for a tracking number that asks for
    /// `min_talk_seconds` of conversation, or the default when it sets none.
    pub fn qualified(&self, min_talk_seconds: Option<u32>) -> bool {
        let min = min_talk_seconds.unwrap_or(DEFAULT_MIN_TALK_SECONDS);
        self.talk_seconds.is_some_and(|talk| talk >= min)
    }
}

/// The webhooks Twilio sends for one call of `scenario`, in its order.
fn script(scenario: Scenario, sids: &Sids, account: &str, from: &str, to: &str) -> Vec<Webhook> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let at = |seconds: u32| {
        time::OffsetDateTime::from_unix_timestamp(now + i64::from(seconds))
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc2822).ok())
            .unwrap_or_default()
    };
    let leg = |sid: &str, status: &str| {
        vec![
            ("AccountSid", account.to_owned()),
            ("ApiVersion", "2010-04-01".to_owned()),
            ("CallSid", sid.to_owned()),
            ("CallStatus", status.to_owned()),
        ]
    };
    let webhook =
        |route: Route, params: Vec<(&'static str, String)>| Webhook { call_sid: sids.call.clone(), route, query: String::new(), params };
    // The caller hangs up `seconds` after calling: the inbound leg's whole duration.
    let caller_hangs_up = |seconds: u32| {
        let mut p = leg(&sids.call, "completed");
        p.extend([
            ("Direction", "inbound".into()),
            ("From", from.to_owned()),
            ("To", to.to_owned()),
            ("CallerName", CALLER_NAME.into()),
            ("SequenceNumber", "0".into()),
            ("Timestamp", at(seconds)),
            ("CallDuration", seconds.to_string()),
        ]);
        webhook(Route::Status, p)
    };
    let child_status = |seq: u32, status: &str, seconds: u32, duration: Option<u32>| {
        let mut p = leg(&sids.child, status);
        p.extend([
            ("Direction", "outbound-dial".into()),
            ("From", from.to_owned()),
            ("To", "+14155550100".into()),
            ("ParentCallSid", sids.call.clone()),
            ("SequenceNumber", seq.to_string()),
            ("Timestamp", at(seconds)),
        ]);
        p.extend(duration.map(|d| ("CallDuration", d.to_string())));
        webhook(Route::Status, p)
    };
    let dial = |status: &str, talk: Option<u32>| {
        let mut p = leg(&sids.call, "in-progress");
        p.extend([
            ("Direction", "inbound".into()),
            ("From", from.to_owned()),
            ("To", to.to_owned()),
            ("DialCallSid", sids.child.clone()),
            ("DialCallStatus", status.into()),
        ]);
        p.extend(talk.map(|t| ("DialCallDuration", t.to_string())));
        webhook(Route::DialResult, p)
    };
    let recording = |source: &str, seconds: u32| webhook(Route::Recording, recording_params(sids, account, source, seconds));
    let mut answer = leg(&sids.call, "ringing");
    answer.extend([("Direction", "inbound".into()), ("From", from.to_owned()), ("To", to.to_owned()), ("CallerName", CALLER_NAME.into())]);
    let mut webhooks = vec![webhook(Route::Answer, answer), child_status(0, "initiated", 1, None), child_status(1, "ringing", 1, None)];
    // The business's leg ends with the Dial's own status, which Twilio spells alike.
    let dial_ended = scenario.dial_status().as_str();
    if let Some(talk) = scenario.talk_seconds() {
        // The business picks up 6 s in; the caller hangs up a second after it does.
        webhooks.extend([
            child_status(2, "in-progress", 6, None),
            child_status(3, dial_ended, 6 + talk, Some(talk)),
            dial(dial_ended, Some(talk)),
            caller_hangs_up(7 + talk),
            recording("DialVerb", talk),
        ]);
    } else if scenario == Scenario::Busy {
        webhooks.extend([child_status(2, dial_ended, 2, None), dial(dial_ended, None), caller_hangs_up(3)]);
    } else {
        // Nobody picks up in 20 s; 30 s in, the caller hangs up or starts a message.
        webhooks.extend([child_status(2, dial_ended, 21, None), dial(dial_ended, None)]);
        match scenario.voicemail_seconds() {
            Some(message) => webhooks.extend([recording("RecordVerb", message), caller_hangs_up(30 + message)]),
            None => webhooks.push(caller_hangs_up(30)),
        }
    }
    webhooks
}

/// A recording status callback's parameters: `source` (`DialVerb`, `RecordVerb`) lasting `seconds`.
fn recording_params(sids: &Sids, account: &str, source: &str, seconds: u32) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", account.into()),
        ("CallSid", sids.call.clone()),
        ("RecordingSid", sids.recording.clone()),
        ("RecordingUrl", format!("https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{}", sids.recording)),
        ("RecordingStatus", "completed".into()),
        ("RecordingDuration", seconds.to_string()),
        ("RecordingChannels", if source == "DialVerb" { "2" } else { "1" }.into()),
        ("RecordingSource", source.into()),
    ]
}

/// What Twilio sends for a call placed through our API, in its order: the
/// agent's leg reaches our connect route, the agent presses 1, the customer's
/// leg (a `<Dial>` child) talks 45 s, then the Dial's outcome, the agent's
/// leg ends, and the recording. Each URL has the query our API gave Twilio.
fn outbound_script(sids: &Sids, account: &str, placed: &Placed) -> Vec<Webhook> {
    let talk = Scenario::Outbound.talk_seconds().unwrap_or_default();
    let (tracking, agent, customer) = (placed.tracking_number.as_str(), placed.agent.as_str(), placed.customer.as_str());
    let webhook =
        |route: Route, query: String, params: Vec<(&'static str, String)>| Webhook { call_sid: sids.call.clone(), route, query, params };
    let agent_leg = |status: &str| {
        let mut p = vec![("AccountSid", account.to_owned()), ("ApiVersion", "2010-04-01".to_owned()), ("CallSid", sids.call.clone())];
        p.extend([
            ("CallStatus", status.to_owned()),
            ("Direction", "outbound-api".into()),
            ("From", tracking.into()),
            ("To", agent.into()),
        ]);
        p
    };
    let customer_leg = |seq: u32, status: &str, duration: Option<u32>| {
        let mut p = vec![("AccountSid", account.to_owned()), ("CallSid", sids.child.clone()), ("CallStatus", status.to_owned())];
        p.extend([("Direction", "outbound-dial".into()), ("From", tracking.into()), ("To", customer.into())]);
        p.extend([("ParentCallSid", sids.call.clone()), ("SequenceNumber", seq.to_string())]);
        p.extend(duration.map(|d| ("CallDuration", d.to_string())));
        webhook(Route::Status, String::new(), p)
    };
    let connect = calltrack_core::placement::connect_query(&placed.customer, true);
    let crm = CrmLinks { user_id: Some(placed.user_id.clone()), links: placed.crm.clone() };
    let status = calltrack_core::placement::status_query(&placed.customer, &crm);
    let mut pressed = agent_leg("in-progress");
    pressed.push(("Digits", "1".into()));
    let mut dialled = agent_leg("in-progress");
    dialled.extend([("DialCallSid", sids.child.clone()), ("DialCallStatus", "completed".into()), ("DialCallDuration", talk.to_string())]);
    let mut ended = agent_leg("completed");
    ended.extend([("SequenceNumber", "3".into()), ("CallDuration", (talk + 12).to_string())]);
    vec![
        webhook(Route::Status, status.clone(), [agent_leg("initiated"), vec![("SequenceNumber", "0".into())]].concat()),
        webhook(Route::Status, status.clone(), [agent_leg("ringing"), vec![("SequenceNumber", "1".into())]].concat()),
        webhook(Route::Status, status.clone(), [agent_leg("in-progress"), vec![("SequenceNumber", "2".into())]].concat()),
        webhook(Route::Connect, connect.clone(), agent_leg("in-progress")),
        webhook(Route::Connect, connect, pressed),
        customer_leg(0, "initiated", None),
        customer_leg(1, "ringing", None),
        customer_leg(2, "in-progress", None),
        customer_leg(3, "completed", Some(talk)),
        webhook(Route::DialResult, String::new(), dialled),
        webhook(Route::Status, status, ended),
        webhook(Route::Recording, String::new(), recording_params(sids, account, "DialVerb", talk)),
    ]
}
