//! TwiML: the XML the answer webhook returns to tell Twilio what to do with a call.
//!
//! Only the verbs call tracking needs. Every value, text or attribute, is
//! escaped on output, and characters XML cannot carry at all are dropped, so a
//! caller name or a stored whisper can never change the document's shape.
//!
//! ```
//! use calltrack_twilio::twiml::{Dial, DialRecord, Number, Response};
//! let xml = Response::new()
//!     .dial(Dial::new().action("https://x.example/dial-result?a=1&b=2").record(DialRecord::RecordFromAnswerDual)
//!         .number(Number::new("+14155550123")))
//!     .to_xml();
//! assert!(xml.contains(r#"action="https://x.example/dial-result?a=1&amp;b=2""#));
//! ```

/// `<Response>`: the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    verbs: Vec<Verb>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Verb {
    Say(Say),
    Dial(Dial),
    Record(Record),
    Hangup,
    Reject(Reject),
    Gather(Gather),
}

impl Response {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn say(mut self, say: impl Into<Say>) -> Self {
        self.verbs.push(Verb::Say(say.into()));
        self
    }

    pub fn dial(mut self, dial: Dial) -> Self {
        self.verbs.push(Verb::Dial(dial));
        self
    }

    pub fn record(mut self, record: Record) -> Self {
        self.verbs.push(Verb::Record(record));
        self
    }

    pub fn hangup(mut self) -> Self {
        self.verbs.push(Verb::Hangup);
        self
    }

    pub fn reject(mut self, reject: Reject) -> Self {
        self.verbs.push(Verb::Reject(reject));
        self
    }

    pub fn gather(mut self, gather: Gather) -> Self {
        self.verbs.push(Verb::Gather(gather));
        self
    }

    /// The document, with its XML declaration.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        if self.verbs.is_empty() {
            out.push_str("<Response/>");
            return out;
        }
        out.push_str("<Response>");
        for verb in &self.verbs {
            match verb {
                Verb::Say(say) => element(&mut out, "Say", &say.attrs, Some(&say.text)),
                Verb::Dial(dial) => {
                    open(&mut out, "Dial", &dial.attrs);
                    for number in &dial.numbers {
                        element(&mut out, "Number", &number.attrs, Some(&number.number));
                    }
                    out.push_str("</Dial>");
                }
                Verb::Record(record) => element(&mut out, "Record", &record.attrs, None),
                Verb::Hangup => out.push_str("<Hangup/>"),
                Verb::Reject(reject) => element(&mut out, "Reject", &reject.attrs, None),
                Verb::Gather(gather) => {
                    open(&mut out, "Gather", &gather.attrs);
                    for say in &gather.says {
                        element(&mut out, "Say", &say.attrs, Some(&say.text));
                    }
                    out.push_str("</Gather>");
                }
            }
        }
        out.push_str("</Response>");
        out
    }
}

/// Attributes in the order they were set; setting one again replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Attrs(Vec<(&'static str, String)>);

impl Attrs {
    fn set(&mut self, name: &'static str, value: impl ToString) {
        let value = value.to_string();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }
}

/// Builder methods that set one attribute each.
macro_rules! attributes {
    ($($(#[$doc:meta])* $method:ident($ty:ty) => $name:literal;)+) => {
        $(
            $(#[$doc])*
            pub fn $method(mut self, value: $ty) -> Self {
                self.attrs.set($name, value);
                self
            }
        )+
    };
}

/// `<Say>`: text read to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    text: String,
    attrs: Attrs,
}

impl Say {
    pub fn new(text: impl Into<String>) -> Self {
        Say { text: text.into(), attrs: Attrs::default() }
    }

    attributes! {
        /// e.g. `Polly.Joanna`.
        voice(&str) => "voice";
        /// e.g. `en-US`.
        language(&str) => "language";
    }
}

impl From<&str> for Say {
    fn from(text: &str) -> Self {
        Say::new(text)
    }
}

/// `<Dial record>`: what to record of the forwarded call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialRecord {
    DoNotRecord,
    RecordFromAnswer,
    RecordFromRinging,
    /// Caller and business on separate channels: the call-tracking default.
    RecordFromAnswerDual,
    RecordFromRingingDual,
}

impl DialRecord {
    pub fn as_str(self) -> &'static str {
        match self {
            DialRecord::DoNotRecord => "do-not-record",
            DialRecord::RecordFromAnswer => "record-from-answer",
            DialRecord::RecordFromRinging => "record-from-ringing",
            DialRecord::RecordFromAnswerDual => "record-from-answer-dual",
            DialRecord::RecordFromRingingDual => "record-from-ringing-dual",
        }
    }
}

impl std::fmt::Display for DialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `<Dial>`: connect the caller to the business.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dial {
    attrs: Attrs,
    numbers: Vec<Number>,
}

impl Dial {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn number(mut self, number: Number) -> Self {
        self.numbers.push(number);
        self
    }

    /// Seconds to ring the business, within Twilio's 5 to 600.
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.attrs.set("timeout", seconds.clamp(5, 600));
        self
    }

    attributes! {
        /// Where Twilio reports the outcome (`DialCallStatus`, `DialCallDuration`).
        action(&str) => "action";
        /// The number the business sees calling: the tracking number, or the caller's.
        caller_id(&str) => "callerId";
        /// Keep the caller hearing ringing until the business answers.
        answer_on_bridge(bool) => "answerOnBridge";
        record(DialRecord) => "record";
        recording_status_callback(&str) => "recordingStatusCallback";
        /// e.g. `completed` or `in-progress completed absent`.
        recording_status_callback_event(&str) => "recordingStatusCallbackEvent";
    }
}

/// `<Number>` inside `<Dial>`: the business's phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    number: String,
    attrs: Attrs,
}

impl Number {
    pub fn new(number: impl Into<String>) -> Self {
        Number { number: number.into(), attrs: Attrs::default() }
    }

    attributes! {
        /// TwiML played to the business before it is connected (the whisper).
        url(&str) => "url";
        /// Where the child leg's status callbacks go.
        status_callback(&str) => "statusCallback";
        /// e.g. `initiated ringing answered completed`.
        status_callback_event(&str) => "statusCallbackEvent";
    }
}

/// `<Record>`: take a voicemail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    attrs: Attrs,
}

impl Record {
    pub fn new() -> Self {
        Self::default()
    }

    attributes! {
        /// Where Twilio goes after a recording was made (skipped when it is empty).
        action(&str) => "action";
        /// Longest voicemail, in seconds.
        max_length(u32) => "maxLength";
        play_beep(bool) => "playBeep";
        /// Seconds of silence that end the recording.
        timeout(u32) => "timeout";
        recording_status_callback(&str) => "recordingStatusCallback";
        recording_status_callback_event(&str) => "recordingStatusCallbackEvent";
    }
}

/// `<Gather>`: key presses, with what is said while Twilio waits for them.
/// Without a press it ends, and the verbs after it run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gather {
    attrs: Attrs,
    says: Vec<Say>,
}

impl Gather {
    pub fn new() -> Self {
        Self::default()
    }

    /// Said while Twilio listens; a key press cuts it short.
    pub fn say(mut self, say: impl Into<Say>) -> Self {
        self.says.push(say.into());
        self
    }

    attributes! {
        /// Where Twilio sends the keys pressed (`Digits`).
        action(&str) => "action";
        /// How many keys end the gathering.
        num_digits(u32) => "numDigits";
        /// Seconds of silence, after the speech, that end it without a press.
        timeout(u32) => "timeout";
    }
}

/// `<Reject>`: refuse the call without answering (no charge).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reject {
    attrs: Attrs,
}

impl Reject {
    pub fn new() -> Self {
        Self::default()
    }

    /// Play a busy signal rather than the default "not in service" message.
    pub fn busy(mut self) -> Self {
        self.attrs.set("reason", "busy");
        self
    }
}

fn open(out: &mut String, name: &str, attrs: &Attrs) {
    out.push('<');
    out.push_str(name);
    for (attr, value) in &attrs.0 {
        out.push(' ');
        out.push_str(attr);
        out.push_str("=\"");
        escape_into(out, value);
        out.push('"');
    }
    out.push('>');
}

fn element(out: &mut String, name: &str, attrs: &Attrs, text: Option<&str>) {
    open(out, name, attrs);
    match text {
        Some(text) => {
            escape_into(out, text);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        // `<X ...>` becomes `<X .../>`.
        None => out.insert(out.len() - 1, '/'),
    }
}

/// Escapes a value for text or a double-quoted attribute. Whitespace other than
/// the space is written as a character reference so attribute values keep it,
/// and characters that XML 1.0 cannot carry at all are dropped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}
