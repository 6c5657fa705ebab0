//! TwiML built from arbitrary strings in every text and attribute.
//!
//! `to_xml()` never panics, its output always parses as XML, and reading it back
//! gives exactly the verbs, attributes (in the order first set, the last value of
//! each) and text that were built, less the characters XML 1.0 cannot carry
//! (C0 controls other than tab, LF and CR; U+FFFE; U+FFFF), which the builder drops.

#![no_main]

use arbitrary::Arbitrary;
use calltrack_twilio::twiml::{Dial, DialRecord, Number, Record, Reject, Response, Say};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum VerbIn<'a> {
    Say { text: &'a str, attrs: Vec<SayAttr<'a>> },
    Dial { attrs: Vec<DialAttr<'a>>, numbers: Vec<NumberIn<'a>> },
    Record { attrs: Vec<RecordAttr<'a>> },
    Hangup,
    Reject { busy: u8 },
}

#[derive(Arbitrary, Debug)]
enum SayAttr<'a> {
    Voice(&'a str),
    Language(&'a str),
}

#[derive(Arbitrary, Debug)]
enum DialAttr<'a> {
    Action(&'a str),
    CallerId(&'a str),
    Timeout(u32),
    AnswerOnBridge(bool),
    Record(DialRecordIn),
    RecordingStatusCallback(&'a str),
    RecordingStatusCallbackEvent(&'a str),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum DialRecordIn {
    DoNotRecord,
    RecordFromAnswer,
    RecordFromRinging,
    RecordFromAnswerDual,
    RecordFromRingingDual,
}

#[derive(Arbitrary, Debug)]
struct NumberIn<'a> {
    number: &'a str,
    attrs: Vec<NumberAttr<'a>>,
}

#[derive(Arbitrary, Debug)]
enum NumberAttr<'a> {
    Url(&'a str),
    StatusCallback(&'a str),
    StatusCallbackEvent(&'a str),
}

#[derive(Arbitrary, Debug)]
enum RecordAttr<'a> {
    Action(&'a str),
    MaxLength(u32),
    PlayBeep(bool),
    Timeout(u32),
    RecordingStatusCallback(&'a str),
    RecordingStatusCallbackEvent(&'a str),
}

/// What an element must read back as.
#[derive(Debug, PartialEq)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn new(name: &str) -> Self {
        Element { name: name.to_owned(), attrs: Vec::new(), text: String::new(), children: Vec::new() }
    }

    /// Set again, an attribute keeps its place and takes the new value.
    fn set(&mut self, name: &str, value: &str) {
        let value = carried(value);
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name.to_owned(), value)),
        }
    }
}

/// XML 1.0's `Char` production: everything else cannot appear in a document at all.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

fn carried(text: &str) -> String {
    text.chars().filter(|&c| is_xml_char(c)).collect()
}

fn dial_record(record: DialRecordIn) -> DialRecord {
    match record {
        DialRecordIn::DoNotRecord => DialRecord::DoNotRecord,
        DialRecordIn::RecordFromAnswer => DialRecord::RecordFromAnswer,
        DialRecordIn::RecordFromRinging => DialRecord::RecordFromRinging,
        DialRecordIn::RecordFromAnswerDual => DialRecord::RecordFromAnswerDual,
        DialRecordIn::RecordFromRingingDual => DialRecord::RecordFromRingingDual,
    }
}

fn build(verbs: &[VerbIn<'_>]) -> (Response, Element) {
    let mut response = Response::new();
    let mut expected = Element::new("Response");
    for verb in verbs {
        let element = match verb {
            VerbIn::Say { text, attrs } => {
                let mut element = Element::new("Say");
                element.text = carried(text);
                if attrs.is_empty() {
                    response = response.say(*text);
                } else {
                    let mut say = Say::new(*text);
                    for attr in attrs {
                        say = match *attr {
                            SayAttr::Voice(v) => {
                                element.set("voice", v);
                                say.voice(v)
                            }
                            SayAttr::Language(v) => {
                                element.set("language", v);
                                say.language(v)
                            }
                        };
                    }
                    response = response.say(say);
                }
                element
            }
            VerbIn::Dial { attrs, numbers } => {
                let mut element = Element::new("Dial");
                let mut dial = Dial::new();
                for attr in attrs {
                    dial = match *attr {
                        DialAttr::Action(v) => {
                            element.set("action", v);
                            dial.action(v)
                        }
                        DialAttr::CallerId(v) => {
                            element.set("callerId", v);
                            dial.caller_id(v)
                        }
                        DialAttr::Timeout(seconds) => {
                            element.set("timeout", &seconds.clamp(5, 600).to_string());
                            dial.timeout(seconds)
                        }
                        DialAttr::AnswerOnBridge(v) => {
                            element.set("answerOnBridge", &v.to_string());
                            dial.answer_on_bridge(v)
                        }
                        DialAttr::Record(record) => {
                            element.set("record", dial_record(record).as_str());
                            dial.record(dial_record(record))
                        }
                        DialAttr::RecordingStatusCallback(v) => {
                            element.set("recordingStatusCallback", v);
                            dial.recording_status_callback(v)
                        }
                        DialAttr::RecordingStatusCallbackEvent(v) => {
                            element.set("recordingStatusCallbackEvent", v);
                            dial.recording_status_callback_event(v)
                        }
                    };
                }
                for number_in in numbers {
                    let mut child = Element::new("Number");
                    child.text = carried(number_in.number);
                    let mut number = Number::new(number_in.number);
                    for attr in &number_in.attrs {
                        number = match *attr {
                            NumberAttr::Url(v) => {
                                child.set("url", v);
                                number.url(v)
                            }
                            NumberAttr::StatusCallback(v) => {
                                child.set("statusCallback", v);
                                number.status_callback(v)
                            }
                            NumberAttr::StatusCallbackEvent(v) => {
                                child.set("statusCallbackEvent", v);
                                number.status_callback_event(v)
                            }
                        };
                    }
                    dial = dial.number(number);
                    element.children.push(child);
                }
                response = response.dial(dial);
                element
            }
            VerbIn::Record { attrs } => {
                let mut element = Element::new("Record");
                let mut record = Record::new();
                for attr in attrs {
                    record = match *attr {
                        RecordAttr::Action(v) => {
                            element.set("action", v);
                            record.action(v)
                        }
                        RecordAttr::MaxLength(v) => {
                            element.set("maxLength", &v.to_string());
                            record.max_length(v)
                        }
                        RecordAttr::PlayBeep(v) => {
                            element.set("playBeep", &v.to_string());
                            record.play_beep(v)
                        }
                        RecordAttr::Timeout(v) => {
                            element.set("timeout", &v.to_string());
                            record.timeout(v)
                        }
                        RecordAttr::RecordingStatusCallback(v) => {
                            element.set("recordingStatusCallback", v);
                            record.recording_status_callback(v)
                        }
                        RecordAttr::RecordingStatusCallbackEvent(v) => {
                            element.set("recordingStatusCallbackEvent", v);
                            record.recording_status_callback_event(v)
                        }
                    };
                }
                response = response.record(record);
                element
            }
            VerbIn::Hangup => {
                response = response.hangup();
                Element::new("Hangup")
            }
            VerbIn::Reject { busy } => {
                let mut element = Element::new("Reject");
                let mut reject = Reject::new();
                for _ in 0..busy % 3 {
                    element.set("reason", "busy");
                    reject = reject.busy();
                }
                response = response.reject(reject);
                element
            }
        };
        expected.children.push(element);
    }
    (response, expected)
}

/// An element as read back: text nodes joined, only elements as children.
fn read(node: roxmltree::Node<'_, '_>) -> Element {
    Element {
        name: node.tag_name().name().to_owned(),
        attrs: node.attributes().map(|a| (a.name().to_owned(), a.value().to_owned())).collect(),
        text: node.children().filter(|c| c.is_text()).map(|c| c.text().unwrap_or_default()).collect(),
        children: node.children().filter(|c| c.is_element()).map(read).collect(),
    }
}

fuzz_target!(|verbs: Vec<VerbIn<'_>>| {
    let (response, expected) = build(&verbs);
    let xml = response.to_xml();
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response"#), "{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|err| panic!("not XML ({err}): {xml:?}"));
    let root = doc.root_element();
    // Nothing but elements and text: no comments, processing instructions or CDATA smuggled in.
    assert!(doc.descendants().all(|n| n.is_root() || n.is_element() || n.is_text()), "{xml:?}");
    assert_eq!(read(root), expected, "{xml:?}");
});
