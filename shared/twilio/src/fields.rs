//! The values inside Twilio's parameters, each parsed and validated on its own:
//! SIDs, phone numbers, the status enums, whole numbers and RFC 2822 timestamps.
//! A rejection names the field and says what is wrong with the value.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A parameter value that can be parsed on its own. `field` is only used to name
/// the parameter in the error.
pub trait Field: Sized {
    fn parse(field: &str, raw: &str) -> Result<Self, Error>;
}

impl Field for String {
    fn parse(_: &str, raw: &str) -> Result<Self, Error> {
        Ok(raw.to_owned())
    }
}

/// Durations, `SequenceNumber`, channels: ASCII digits only (no sign, no spaces).
impl Field for u32 {
    fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(field, format!("is not a whole number: {raw:?}")));
        }
        raw.parse().map_err(|_| Error::invalid(field, format!("is too large: {raw:?}")))
    }
}

/// `true` or `false`, as Twilio writes booleans (`DialBridged`).
impl Field for bool {
    fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        match raw {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(Error::invalid(field, format!("is not true or false: {raw:?}"))),
        }
    }
}

macro_rules! sid {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        /// Kept inline: a SID is always 34 ASCII bytes, so it needs no allocation.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; 34]);

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "[0-9a-fA-F]{32}$")))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.0).expect("a SID is validated ASCII")
            }
        }

        impl Field for $name {
            /// Two letters and 32 hex digits, e.g. `CA` + 32 hex.
            fn parse(field: &str, raw: &str) -> Result<Self, Error> {
                match <[u8; 34]>::try_from(raw.as_bytes()) {
                    Ok(bytes) if raw.starts_with($prefix) && bytes[2..].iter().all(u8::is_ascii_hexdigit) => Ok($name(bytes)),
                    _ => Err(Error::invalid(field, format!("is not a valid SID ({} + 32 hex digits): {raw:?}", $prefix))),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(raw: String) -> Result<Self, Error> {
                Self::parse(stringify!($name), &raw)
            }
        }

        impl From<$name> for String {
            fn from(sid: $name) -> String {
                sid.as_str().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
    };
}

sid!(
    /// A call leg: `CA` + 32 hex digits.
    CallSid,
    "CA"
);
sid!(
    /// A Twilio account or subaccount: `AC` + 32 hex digits.
    AccountSid,
    "AC"
);
sid!(
    /// A recording: `RE` + 32 hex digits.
    RecordingSid,
    "RE"
);

/// Enums whose values are Twilio's own strings.
macro_rules! twilio_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] #[cfg_attr(feature = "openapi", schema(rename = $text))] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Twilio's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl Field for $name {
            fn parse(field: &str, raw: &str) -> Result<Self, Error> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(field, format!("is not one of {}: {raw:?}", [$($text),+].join(", ")))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

twilio_enum!(
    /// `CallStatus`: where a call leg stands.
    CallStatus {
        Queued = "queued",
        Initiated = "initiated",
        Ringing = "ringing",
        InProgress = "in-progress",
        Completed = "completed",
        Busy = "busy",
        Failed = "failed",
        NoAnswer = "no-answer",
        Canceled = "canceled",
    }
);

impl CallStatus {
    /// A call that has ended: nothing follows these.
    pub fn is_terminal(self) -> bool {
        matches!(self, CallStatus::Completed | CallStatus::Busy | CallStatus::Failed | CallStatus::NoAnswer | CallStatus::Canceled)
    }

    /// Someone picked up: the call is talking or ended after talking.
    pub fn is_answered(self) -> bool {
        matches!(self, CallStatus::InProgress | CallStatus::Completed)
    }
}

twilio_enum!(
    /// `Direction` of a call leg.
    Direction {
        /// A customer called one of our numbers.
        Inbound = "inbound",
        /// We (or a CRM) placed the call through the REST API.
        OutboundApi = "outbound-api",
        /// The child leg `<Dial>` created to reach the business.
        OutboundDial = "outbound-dial",
        TrunkingTerminating = "trunking-terminating",
        TrunkingOriginating = "trunking-originating",
    }
);

twilio_enum!(
    /// `DialCallStatus`: how the `<Dial>` to the business ended.
    DialCallStatus {
        Completed = "completed",
        /// Only when dialling a conference; the call was connected.
        Answered = "answered",
        Busy = "busy",
        NoAnswer = "no-answer",
        Failed = "failed",
        Canceled = "canceled",
    }
);

impl DialCallStatus {
    /// The business picked up and was connected to the caller.
    pub fn connected(self) -> bool {
        matches!(self, DialCallStatus::Completed | DialCallStatus::Answered)
    }

    /// How a `<Dial>` ended, told by its child leg's final status; `None` while it goes on.
    pub fn of_child(status: CallStatus) -> Option<Self> {
        match status {
            CallStatus::Completed => Some(DialCallStatus::Completed),
            CallStatus::Busy => Some(DialCallStatus::Busy),
            CallStatus::NoAnswer => Some(DialCallStatus::NoAnswer),
            CallStatus::Failed => Some(DialCallStatus::Failed),
            CallStatus::Canceled => Some(DialCallStatus::Canceled),
            CallStatus::Queued | CallStatus::Initiated | CallStatus::Ringing | CallStatus::InProgress => None,
        }
    }
}

twilio_enum!(
    /// `RecordingStatus` in a recording status callback.
    RecordingStatus {
        InProgress = "in-progress",
        Completed = "completed",
        /// Nothing was recorded (e.g. silence in a voicemail).
        Absent = "absent",
        /// Only with Voice Recording Encryption.
        Failed = "failed",
    }
);

/// A caller or called party: an E.164 number, or the description Twilio sends
/// when the caller ID is withheld (`Anonymous`, `RESTRICTED`, `Unknown`, …),
/// kept exactly as it came.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "+18005551212"))]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `+` and 2 to 15 digits, the first not 0.
    pub fn is_e164(&self) -> bool {
        is_e164(&self.0)
    }

    /// Whether the caller hid their number.
    pub fn is_withheld(&self) -> bool {
        !self.is_e164()
    }

    /// A value kept exactly as Twilio sent it, unchecked: only for storing what
    /// a caller-facing route read leniently (see [`Caller`]).
    pub(crate) fn as_sent(raw: &str) -> Self {
        PhoneNumber(raw.to_owned())
    }

    /// Parses a value that must be an E.164 number (our own tracking numbers).
    pub fn e164(field: &str, raw: &str) -> Result<Self, Error> {
        if is_e164(raw) {
            Ok(PhoneNumber(raw.to_owned()))
        } else {
            Err(Error::invalid(field, format!("is not an E.164 phone number: {raw:?}")))
        }
    }
}

fn is_e164(raw: &str) -> bool {
    let Some(digits) = raw.strip_prefix('+') else { return false };
    (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Twilio documents the withheld caller ID only as "a string that contains
/// anonymous, unknown, or other descriptions", so any short phrase of letters is
/// one; anything with digits or symbols that is not E.164 is refused.
fn is_withheld_description(raw: &str) -> bool {
    (1..=40).contains(&raw.len())
        && raw.bytes().any(|b| b.is_ascii_alphabetic())
        && raw.bytes().all(|b| b.is_ascii_alphabetic() || matches!(b, b' ' | b'-' | b'_' | b'.'))
}

/// Who is calling, as Twilio sent `From`, read leniently for a caller on the
/// line: the answer route forwards a SIP or Client caller, a withheld or
/// malformed caller ID alike, and stores it as it came. Parsing a
/// [`PhoneNumber`] stays strict; this is only for routes that must not refuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// An E.164 number that is a real number.
    Number(PhoneNumber),
    /// A SIP URI, e.g. `sip:alice@example.com`, kept as sent.
    Sip(String),
    /// A Twilio Client identity, e.g. `client:alice`, kept as sent.
    Client(String),
    /// No caller ID: nothing at all, a description (`Anonymous`, `RESTRICTED`),
    /// or a number that spells one on a keypad (`266696687`, `+266696687` is
    /// ANONYMOUS), which Twilio sends for some withheld callers. Kept as sent.
    Withheld(String),
    /// Anything else, e.g. `+1 (555) 12`, kept as sent.
    Other(String),
}

/// The words a withheld caller ID is spelled with on a keypad.
const WITHHELD_WORDS: [&str; 6] = ["ANONYMOUS", "RESTRICTED", "UNAVAILABLE", "UNKNOWN", "BLOCKED", "PRIVATE"];

/// Whether `digits` spells one of [`WITHHELD_WORDS`] on a phone keypad.
fn spells_withheld(digits: &str) -> bool {
    let key = |letter: u8| match letter {
        b'A'..=b'C' => b'2',
        b'D'..=b'F' => b'3',
        b'G'..=b'I' => b'4',
        b'J'..=b'L' => b'5',
        b'M'..=b'O' => b'6',
        b'P'..=b'S' => b'7',
        b'T'..=b'V' => b'8',
        _ => b'9',
    };
    WITHHELD_WORDS.iter().any(|word| word.len() == digits.len() && word.bytes().map(key).eq(digits.bytes()))
}

impl Caller {
    /// Reads `From` as it came; never fails. Leading and trailing spaces are
    /// kept, as everything else is: only the kind is decided here.
    pub fn read(raw: &str) -> Caller {
        let digits = raw.strip_prefix('+').unwrap_or(raw);
        let scheme = |prefix: &str| raw.len() > prefix.len() && raw.get(..prefix.len()).is_some_and(|s| s.eq_ignore_ascii_case(prefix));
        if raw.is_empty() || is_withheld_description(raw) || spells_withheld(digits) {
            Caller::Withheld(raw.to_owned())
        } else if is_e164(raw) {
            Caller::Number(PhoneNumber(raw.to_owned()))
        } else if scheme("sip:") || scheme("sips:") {
            Caller::Sip(raw.to_owned())
        } else if scheme("client:") {
            Caller::Client(raw.to_owned())
        } else {
            Caller::Other(raw.to_owned())
        }
    }

    /// The kind of caller, for logs and tests: `number`, `sip`, `client`,
    /// `withheld` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Caller::Number(_) => "number",
            Caller::Sip(_) => "sip",
            Caller::Client(_) => "client",
            Caller::Withheld(_) => "withheld",
            Caller::Other(_) => "other",
        }
    }

    /// `From` exactly as Twilio sent it.
    pub fn as_str(&self) -> &str {
        match self {
            Caller::Number(number) => number.as_str(),
            Caller::Sip(raw) | Caller::Client(raw) | Caller::Withheld(raw) | Caller::Other(raw) => raw,
        }
    }

    /// The caller's number, when they called from one and showed it.
    pub fn number(&self) -> Option<&PhoneNumber> {
        match self {
            Caller::Number(number) => Some(number),
            _ => None,
        }
    }

    /// What a call stores as its `fromNumber`: the caller as sent, a string
    /// whatever its kind; none when Twilio sent nothing.
    pub fn as_sent(&self) -> Option<PhoneNumber> {
        Some(self.as_str()).filter(|raw| !raw.is_empty()).map(PhoneNumber::as_sent)
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Field for PhoneNumber {
    fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        if is_e164(raw) || is_withheld_description(raw) {
            Ok(PhoneNumber(raw.to_owned()))
        } else {
            Err(Error::invalid(field, format!("is not an E.164 phone number or a withheld caller ID: {raw:?}")))
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An RFC 2822 date (`Tue, 02 Jan 2024 17:03:12 +0000`) as milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EpochMillis(pub i64);

impl Field for EpochMillis {
    fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let date = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc2822)
            .map_err(|_| Error::invalid(field, format!("is not an RFC 2822 date: {raw:?}")))?;
        Ok(EpochMillis((date.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection<T: Field + fmt::Debug>(field: &str, raw: &str) -> String {
        T::parse(field, raw).unwrap_err().to_string()
    }

    #[test]
    fn sids() {
        let sid = CallSid::parse("CallSid", "CA0123456789abcdef0123456789ABCDEF").unwrap();
        assert_eq!(sid.as_str(), "CA0123456789abcdef0123456789ABCDEF");
        assert!(AccountSid::parse("AccountSid", "AC0123456789abcdef0123456789abcdef").is_ok());
        assert!(RecordingSid::parse("RecordingSid", "RE0123456789abcdef0123456789abcdef").is_ok());
        assert_eq!(rejection::<CallSid>("CallSid", "CA123"), r#"CallSid is not a valid SID (CA + 32 hex digits): "CA123""#);
        assert_eq!(
            rejection::<CallSid>("CallSid", "RE0123456789abcdef0123456789abcdef"),
            r#"CallSid is not a valid SID (CA + 32 hex digits): "RE0123456789abcdef0123456789abcdef""#
        );
        assert!(CallSid::parse("CallSid", "CA0123456789abcdef0123456789abcdeg").is_err(), "g is not hex");
        assert!(CallSid::parse("CallSid", "CA0123456789abcdef0123456789abcdef0").is_err(), "too long");
        assert!(CallSid::parse("CallSid", "ca0123456789abcdef0123456789abcdef").is_err(), "prefix is upper case");
        assert!(CallSid::parse("CallSid", "CA0123456789abcdef0123456789abcdé").is_err(), "multibyte");
    }

    #[test]
    fn sids_deserialize_only_when_valid() {
        let sid: CallSid = serde_json::from_str(r#""CA0123456789abcdef0123456789abcdef""#).unwrap();
        assert_eq!(serde_json::to_string(&sid).unwrap(), r#""CA0123456789abcdef0123456789abcdef""#);
        assert!(serde_json::from_str::<CallSid>(r#""CAxyz""#).is_err());
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(u32::parse("CallDuration", "0"), Ok(0));
        assert_eq!(u32::parse("CallDuration", "4294967295"), Ok(u32::MAX));
        assert_eq!(rejection::<u32>("CallDuration", "4x"), r#"CallDuration is not a whole number: "4x""#);
        for bad in ["-1", "+4", " 4", "4.0", "1e3", ""] {
            assert!(u32::parse("CallDuration", bad).is_err(), "{bad:?}");
        }
        assert_eq!(rejection::<u32>("SequenceNumber", "4294967296"), r#"SequenceNumber is too large: "4294967296""#);
    }

    #[test]
    fn booleans() {
        assert_eq!(bool::parse("DialBridged", "true"), Ok(true));
        assert_eq!(bool::parse("DialBridged", "false"), Ok(false));
        assert_eq!(rejection::<bool>("DialBridged", "yes"), r#"DialBridged is not true or false: "yes""#);
    }

    #[test]
    fn enums_round_trip_every_value() {
        for status in CallStatus::ALL {
            assert_eq!(CallStatus::parse("CallStatus", status.as_str()), Ok(*status));
            assert_eq!(serde_json::to_string(status).unwrap(), format!("\"{status}\""));
        }
        for d in Direction::ALL {
            assert_eq!(Direction::parse("Direction", d.as_str()), Ok(*d));
        }
        for s in RecordingStatus::ALL {
            assert_eq!(RecordingStatus::parse("RecordingStatus", s.as_str()), Ok(*s));
        }
        for s in DialCallStatus::ALL {
            assert_eq!(DialCallStatus::parse("DialCallStatus", s.as_str()), Ok(*s));
        }
    }

    #[test]
    fn enum_rejections_list_the_valid_values() {
        assert_eq!(
            rejection::<CallStatus>("CallStatus", "Completed"),
            r#"CallStatus is not one of queued, initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled: "Completed""#
        );
        assert_eq!(
            rejection::<Direction>("Direction", "outbound"),
            r#"Direction is not one of inbound, outbound-api, outbound-dial, trunking-terminating, trunking-originating: "outbound""#
        );
        assert_eq!(
            rejection::<RecordingStatus>("RecordingStatus", "done"),
            r#"RecordingStatus is not one of in-progress, completed, absent, failed: "done""#
        );
    }

    #[test]
    fn status_classes() {
        let terminal: Vec<_> = CallStatus::ALL.iter().filter(|s| s.is_terminal()).map(|s| s.as_str()).collect();
        assert_eq!(terminal, ["completed", "busy", "failed", "no-answer", "canceled"]);
        let answered: Vec<_> = CallStatus::ALL.iter().filter(|s| s.is_answered()).map(|s| s.as_str()).collect();
        assert_eq!(answered, ["in-progress", "completed"]);
    }

    #[test]
    fn dial_outcomes() {
        let connected: Vec<_> = DialCallStatus::ALL.iter().filter(|s| s.connected()).map(|s| s.as_str()).collect();
        assert_eq!(connected, ["completed", "answered"]);
        let told_by_child: Vec<_> = CallStatus::ALL.iter().map(|s| DialCallStatus::of_child(*s).map(DialCallStatus::as_str)).collect();
        let ended = [Some("completed"), Some("busy"), Some("failed"), Some("no-answer"), Some("canceled")];
        assert_eq!(told_by_child[..4], [None; 4], "queued, initiated, ringing, in-progress: the Dial goes on");
        assert_eq!(told_by_child[4..], ended);
    }

    #[test]
    fn phone_numbers() {
        for good in ["+14155550123", "+442071838750", "+12", "+123456789012345"] {
            let n = PhoneNumber::parse("From", good).unwrap();
            assert!(n.is_e164() && !n.is_withheld(), "{good}");
        }
        for withheld in ["Anonymous", "anonymous", "RESTRICTED", "Unknown", "Private Caller", "UNAVAILABLE"] {
            let n = PhoneNumber::parse("From", withheld).unwrap();
            assert_eq!(n.as_str(), withheld, "kept as it came");
            assert!(n.is_withheld());
        }
        for bad in [
            "14155550123",
            "+1415555012345678",
            "+0123",
            "+1 415 555 0123",
            "+1-415",
            "client:alice",
            "sip:a@b.com",
            "",
            "+",
            "<Say>",
            "555-0123",
        ] {
            assert_eq!(
                rejection::<PhoneNumber>("From", bad),
                format!("From is not an E.164 phone number or a withheld caller ID: {bad:?}"),
            );
        }
        assert!(PhoneNumber::e164("To", "Anonymous").is_err(), "our own numbers are always E.164");
        assert_eq!(PhoneNumber::e164("To", "+18005551212").unwrap().as_str(), "+18005551212");
    }

    #[test]
    fn callers_are_read_as_sent_and_never_refused() {
        let kind = |raw: &str| Caller::read(raw).kind();
        let cases = [
            ("+12125550199", "number"),
            ("+442071838750", "number"),
            ("sip:alice@example.com", "sip"),
            ("SIP:alice@example.com;transport=tls", "sip"),
            ("sips:alice@example.com", "sip"),
            ("client:alice", "client"),
            ("", "withheld"),
            ("Anonymous", "withheld"),
            ("RESTRICTED", "withheld"),
            ("Private Caller", "withheld"),
            // ANONYMOUS, RESTRICTED, UNAVAILABLE, UNKNOWN, BLOCKED, PRIVATE on a keypad.
            ("266696687", "withheld"),
            ("+266696687", "withheld"),
            ("+7378742833", "withheld"),
            ("86282452253", "withheld"),
            ("+8656696", "withheld"),
            ("2562533", "withheld"),
            ("+7748283", "withheld"),
            ("+1 (555) 12", "other"),
            ("12125550199", "other"),
            ("sip:", "other"),
            ("client:", "other"),
            ("<Say>", "other"),
            ("+0123", "other"),
        ];
        for (raw, expected) in cases {
            assert_eq!(kind(raw), expected, "{raw:?}");
            let caller = Caller::read(raw);
            assert_eq!(caller.as_str(), raw, "kept as sent");
            assert_eq!(caller.to_string(), raw);
            assert_eq!(caller.as_sent().map(|n| n.as_str().to_owned()), Some(raw.to_owned()).filter(|r| !r.is_empty()));
            assert_eq!(caller.number().is_some(), expected == "number", "{raw:?}");
        }
        assert_eq!(Caller::read("+12125550199").number(), Some(&PhoneNumber::e164("From", "+12125550199").unwrap()));
        assert!(PhoneNumber::parse("From", "sip:alice@example.com").is_err(), "the strict parse is unchanged");
    }

    #[test]
    fn rfc2822_timestamps() {
        assert_eq!(EpochMillis::parse("Timestamp", "Tue, 02 Jan 2024 17:03:12 +0000"), Ok(EpochMillis(1_704_214_992_000)));
        assert_eq!(EpochMillis::parse("Timestamp", "Tue, 02 Jan 2024 18:03:12 +0100"), Ok(EpochMillis(1_704_214_992_000)));
        assert_eq!(
            rejection::<EpochMillis>("Timestamp", "2024-01-02T17:03:12Z"),
            r#"Timestamp is not an RFC 2822 date: "2024-01-02T17:03:12Z""#
        );
        assert!(EpochMillis::parse("Timestamp", "Tue, 32 Jan 2024 17:03:12 +0000").is_err());
    }
}
