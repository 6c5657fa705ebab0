//! Which calls are qualified leads. The seed rule is "completed and at least
//! 30 s"; what must last 30 s is the conversation, not the inbound leg, which for
//! a forwarded call also counts ringing and voicemail.

use calltrack_twilio::fields::{CallStatus, DialCallStatus};
use serde::Serialize;

/// The minimum conversation, in seconds, for a number that sets none.
pub const DEFAULT_MIN_TALK_SECONDS: u32 = 30;

/// A call's facts as they stand, whichever of its callbacks have arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOutcome {
    /// The inbound (parent) leg's `CallStatus`.
    pub status: Option<CallStatus>,
    /// The inbound leg's `CallDuration`.
    pub duration_seconds: Option<u32>,
    /// We answered with `<Dial>`: the conversation is the Dial's.
    pub forwarded: bool,
    /// The Dial outcome's `DialCallStatus`.
    pub dial_status: Option<DialCallStatus>,
    /// The Dial outcome's `DialCallDuration`, or the child leg's `CallDuration`.
    pub talk_seconds: Option<u32>,
    /// The Dial outcome's `DialBridged`: `false` when the business's line
    /// answered but was never connected to the caller (screening not accepted).
    pub bridged: Option<bool>,
}

/// The verdict, with a reason a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Qualification {
    pub qualified: bool,
    /// `qualified: talked 45 s`, `too short: 12 s < 30 s`, `not answered: busy`, …
    pub reason: String,
}

/// Decides whether a call is a qualified lead: it completed, and its
/// conversation lasted at least `min_talk_seconds`.
pub fn qualify(outcome: &CallOutcome, min_talk_seconds: u32) -> Qualification {
    let verdict = |qualified, reason: String| Qualification { qualified, reason };
    let talk = match outcome.status {
        None => return verdict(false, "in progress".into()),
        Some(status) if !status.is_terminal() => return verdict(false, format!("in progress: {status}")),
        Some(CallStatus::Completed) => {
            if !outcome.forwarded {
                outcome.duration_seconds
            } else {
                match outcome.dial_status {
                    Some(dial) if !dial.connected() => return verdict(false, format!("not answered: {dial}")),
                    // Whatever its durations say: the business's line answered but was
                    // never connected to the caller (a screened call nobody accepted).
                    _ if outcome.bridged == Some(false) => return verdict(false, "not answered: never bridged to the business".into()),
                    _ => outcome.talk_seconds,
                }
            }
        }
        Some(ended) => return verdict(false, format!("not answered: {ended}")),
    };
    match talk {
        None => verdict(false, "completed: no talk time yet".into()),
        Some(seconds) if seconds >= min_talk_seconds => verdict(true, format!("qualified: talked {seconds} s")),
        Some(seconds) => verdict(false, format!("too short: {seconds} s < {min_talk_seconds} s")),
    }
}
