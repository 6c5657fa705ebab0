//! The TwiML builder's output, read back with a real XML parser (roxmltree).

use calltrack_twilio::twiml::{Dial, DialRecord, Gather, Number, Record, Reject, Response, Say};
use proptest::prelude::*;

fn parse(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|err| panic!("not XML ({err}): {xml}"))
}

/// An element's name, attributes and text.
type Element = (String, Vec<(String, String)>, String);

/// Each element, in document order.
fn shape(xml: &str) -> Vec<Element> {
    parse(xml)
        .descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let attrs = n.attributes().map(|a| (a.name().to_owned(), a.value().to_owned())).collect();
            let text = n.children().filter(|c| c.is_text()).map(|c| c.text().unwrap_or_default()).collect();
            (n.tag_name().name().to_owned(), attrs, text)
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn forwarding_response_has_every_dial_and_number_attribute() {
    let xml = Response::new()
        .say(Say::new("Call from Google Ads").voice("Polly.Joanna").language("en-US"))
        .dial(
            Dial::new()
                .action("https://calls.example.com/api/twilio/voice/dial-result?tenant=t1&user=u1")
                .timeout(20)
                .caller_id("+18005551212")
                .answer_on_bridge(true)
                .record(DialRecord::RecordFromAnswerDual)
                .recording_status_callback("https://calls.example.com/api/twilio/voice/recording")
                .recording_status_callback_event("completed")
                .number(
                    Number::new("+14155550123")
                        .url("https://calls.example.com/whisper?text=Google%20Ads")
                        .status_callback("https://calls.example.com/api/twilio/voice/status")
                        .status_callback_event("initiated ringing answered completed"),
                ),
        )
        .to_xml();
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#), "{xml}");
    assert_eq!(
        shape(&xml),
        vec![
            ("Response".into(), vec![], "".into()),
            ("Say".into(), owned(&[("voice", "Polly.Joanna"), ("language", "en-US")]), "Call from Google Ads".into()),
            (
                "Dial".into(),
                owned(&[
                    ("action", "https://calls.example.com/api/twilio/voice/dial-result?tenant=t1&user=u1"),
                    ("timeout", "20"),
                    ("callerId", "+18005551212"),
                    ("answerOnBridge", "true"),
                    ("record", "record-from-answer-dual"),
                    ("recordingStatusCallback", "https://calls.example.com/api/twilio/voice/recording"),
                    ("recordingStatusCallbackEvent", "completed"),
                ]),
                "".into()
            ),
            (
                "Number".into(),
                owned(&[
                    ("url", "https://calls.example.com/whisper?text=Google%20Ads"),
                    ("statusCallback", "https://calls.example.com/api/twilio/voice/status"),
                    ("statusCallbackEvent", "initiated ringing answered completed"),
                ]),
                "+14155550123".into()
            ),
        ]
    );
    assert!(xml.contains("tenant=t1&amp;user=u1"), "& in a URL is escaped: {xml}");
}

#[test]
fn voicemail_response() {
    let xml = Response::new()
        .say("Sorry, nobody can take your call. Leave a message after the beep.")
        .record(
            Record::new()
                .max_length(120)
                .play_beep(true)
                .timeout(5)
                .recording_status_callback("https://calls.example.com/api/twilio/voice/recording")
                .recording_status_callback_event("completed absent"),
        )
        .say("Goodbye.")
        .hangup()
        .to_xml();
    let names: Vec<_> = shape(&xml).into_iter().map(|(name, attrs, _)| (name, attrs.len())).collect();
    assert_eq!(names, [("Response".into(), 0), ("Say".into(), 0), ("Record".into(), 5), ("Say".into(), 0), ("Hangup".into(), 0)]);
    assert!(xml.contains(r#"<Record maxLength="120" playBeep="true" timeout="5" "#), "{xml}");
}

#[test]
fn a_gather_holds_what_is_said_while_it_listens_and_the_verbs_after_it_run_without_a_press() {
    let xml = Response::new()
        .gather(
            Gather::new()
                .num_digits(1)
                .timeout(6)
                .action("https://calls.example.com/api/twilio/voice/screen?a=1&b=2")
                .say("Call from <Google Ads>")
                .say("Press 1 to take this call."),
        )
        .hangup()
        .to_xml();
    let expected: Vec<Element> = vec![
        ("Response".into(), vec![], String::new()),
        (
            "Gather".into(),
            owned(&[("numDigits", "1"), ("timeout", "6"), ("action", "https://calls.example.com/api/twilio/voice/screen?a=1&b=2")]),
            String::new(),
        ),
        ("Say".into(), vec![], "Call from <Google Ads>".into()),
        ("Say".into(), vec![], "Press 1 to take this call.".into()),
        ("Hangup".into(), vec![], String::new()),
    ];
    assert_eq!(shape(&xml), expected, "{xml}");
}

#[test]
fn hangup_reject_and_empty_responses() {
    assert_eq!(Response::new().to_xml(), r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#);
    assert_eq!(
        Response::new().reject(Reject::new().busy()).to_xml(),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>"#
    );
    assert_eq!(Response::new().reject(Reject::new()).to_xml(), r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>"#);
    let xml = Response::new().say("This number is not in service.").hangup().to_xml();
    assert_eq!(shape(&xml).len(), 3);
}

#[test]
fn dial_timeout_stays_within_twilio_limits() {
    let timeout = |seconds| shape(&Response::new().dial(Dial::new().timeout(seconds)).to_xml())[1].1[0].1.clone();
    assert_eq!(timeout(0), "5");
    assert_eq!(timeout(30), "30");
    assert_eq!(timeout(10_000), "600");
}

#[test]
fn setting_an_attribute_twice_keeps_the_last_value() {
    let xml = Response::new().dial(Dial::new().action("https://a").action("https://b").number(Number::new("+14155550123"))).to_xml();
    assert_eq!(shape(&xml)[1].1, owned(&[("action", "https://b")]));
}

#[test]
fn injection_through_a_caller_name_or_stored_whisper_stays_text() {
    let evil = r#"Bob"/><Hangup/><Say a='1'>& </Say></Dial><Redirect>https://evil.example</Redirect>"#;
    let xml = Response::new().say(evil).dial(Dial::new().caller_id(evil).number(Number::new(evil).url(evil))).to_xml();
    let shape = shape(&xml);
    let names: Vec<_> = shape.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(names, ["Response", "Say", "Dial", "Number"], "no element was injected: {xml}");
    assert_eq!(shape[1].2, evil);
    assert_eq!(shape[2].1, owned(&[("callerId", evil)]));
    assert_eq!(shape[3].1, owned(&[("url", evil)]));
    assert_eq!(shape[3].2, evil);
}

/// What XML 1.0 can carry; the builder drops the rest.
fn xml_chars(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')).collect()
}

proptest! {
    #[test]
    fn any_text_or_attribute_reads_back_exactly(text in any::<String>(), attr in any::<String>()) {
        let xml = Response::new().say(Say::new(text.clone()).voice(&attr)).to_xml();
        let doc = parse(&xml);
        let say = doc.descendants().find(|n| n.has_tag_name("Say")).unwrap();
        prop_assert_eq!(say.text().unwrap_or_default(), xml_chars(&text));
        prop_assert_eq!(say.attribute("voice").unwrap(), xml_chars(&attr));
        prop_assert_eq!(doc.descendants().filter(|n| n.is_element()).count(), 2);
    }
}
