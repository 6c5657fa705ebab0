//! Webhook parameters exactly as Twilio sent them: decoded, in arrival order, with
//! repeated keys and empty values kept. The signature covers every one of them, so
//! nothing here may drop, merge or re-encode a parameter.

use crate::error::Error;
use crate::fields::Field;
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::borrow::Cow;
use std::ops::Range;

/// Decoded parameters. All keys and values live in one buffer, back to back in
/// arrival order, so decoding a typical 14-parameter callback costs two
/// allocations rather than twenty-eight.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    text: String,
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

impl Params {
    /// Decodes an `application/x-www-form-urlencoded` body or a raw query string:
    /// `+` is a space, `%XY` a byte, a key without `=` has an empty value. Invalid
    /// percent sequences stay literal (as in Twilio's libraries); bytes that do
    /// not decode to UTF-8 are refused.
    pub fn from_form(body: &[u8]) -> Result<Self, Error> {
        // `+` is a space. Replacing it over the whole body first, branch-free, lets
        // the compiler vectorise it and leaves whole runs to copy; a decoded `%2B`
        // still becomes `+` afterwards.
        let spaced: Vec<u8>;
        let body = if memchr::memchr(b'+', body).is_some() {
            spaced = body.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
            &spaced[..]
        } else {
            body
        };
        let mut bytes = Vec::with_capacity(body.len());
        let mut pairs = Vec::with_capacity(16);
        let mut key = None; // the current pair's key, once its `=` has been seen
        let mut start = 0; // where the current key or value starts in `bytes`
        let mut copied = 0; // how much of `body` has been consumed
        // One SIMD pass finds every byte that means something, and the runs
        // between are copied whole: this is the hot path of every webhook.
        for at in memchr::memchr3_iter(b'&', b'=', b'%', body).chain([body.len()]) {
            bytes.extend_from_slice(&body[copied..at]);
            copied = at + 1;
            match body.get(at) {
                Some(b'%') => match body.get(at + 1..at + 3) {
                    Some(&[hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                        bytes.push(hex_value(hi) << 4 | hex_value(lo));
                        copied = at + 3;
                    }
                    // Not a valid escape: the `%` stays literal.
                    _ => bytes.push(b'%'),
                },
                Some(b'=') if key.is_none() => {
                    key = Some(start..bytes.len());
                    start = bytes.len();
                }
                Some(b'=') => bytes.push(b'='),
                // `&` or the end: the pair is complete. A key without `=` has an
                // empty value; an empty segment (`&&`) is no pair at all.
                _ => {
                    let text = start..bytes.len();
                    match key.take() {
                        Some(key) => pairs.push((key, text)),
                        None if !text.is_empty() => pairs.push((text, bytes.len()..bytes.len())),
                        None => {}
                    }
                    start = bytes.len();
                }
            }
        }
        let text = String::from_utf8(bytes).map_err(|err| {
            let bad = err.utf8_error().valid_up_to();
            let field = pairs
                .iter()
                .find(|(k, v)| k.contains(&bad) || v.contains(&bad))
                .map(|(k, _)| String::from_utf8_lossy(&err.as_bytes()[k.clone()]).into_owned())
                .unwrap_or_default();
            Error::MalformedBody(format!("parameter {field:?} is not valid UTF-8"))
        })?;
        // Valid as a whole is not enough: `%D9&%AA` is `٪` split in two. Each key
        // and value must be UTF-8 on its own, or slicing it would panic.
        let boundary = |at: usize| text.is_char_boundary(at);
        if let Some((key, _)) = pairs.iter().find(|(k, v)| !(boundary(k.start) && boundary(k.end) && boundary(v.start) && boundary(v.end)))
        {
            let field = String::from_utf8_lossy(&text.as_bytes()[key.clone()]).into_owned();
            return Err(Error::MalformedBody(format!("parameter {field:?} is not valid UTF-8")));
        }
        Ok(Params { text, pairs })
    }

    /// Decodes a JSON object body. Strings are kept as they are, numbers and
    /// booleans as their JSON text, `null` as empty, arrays as repeated keys and
    /// nested objects as their JSON text, so no parameter is lost.
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        use serde_json::Value;
        let object: serde_json::Map<String, Value> =
            serde_json::from_slice(body).map_err(|err| Error::MalformedBody(format!("expected a JSON object: {err}")))?;
        let mut params = Params::default();
        for (key, value) in &object {
            match value {
                Value::Array(items) => items.iter().for_each(|item| params.push(key, &json_text(item))),
                other => params.push(key, &json_text(other)),
            }
        }
        Ok(params)
    }

    /// Appends a parameter.
    pub fn push(&mut self, key: &str, value: &str) {
        let key_range = self.append(key);
        let value_range = self.append(value);
        self.pairs.push((key_range, value_range));
    }

    fn append(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    /// The first value of `key`, if present (possibly empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        // Compares bytes, lengths first: slicing the `str` for every pair costs
        // char-boundary checks, and this runs a dozen times per webhook.
        let text = self.text.as_bytes();
        let (_, value) = self.pairs.iter().find(|(k, _)| k.len() == key.len() && &text[k.clone()] == key.as_bytes())?;
        Some(&self.text[value.clone()])
    }

    /// Every `(key, value)` pair in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|(k, v)| (&self.text[k.clone()], &self.text[v.clone()]))
    }

    /// What Twilio appends to the URL it signs: each distinct `key` + `value` in
    /// byte order of key, then value. `text` holds every key and value in arrival
    /// order, back to back; Twilio sends its parameters sorted, so in practice
    /// `text` is that string already and nothing is sorted or copied.
    pub(crate) fn signing_tail(&self) -> Cow<'_, [u8]> {
        let text = self.text.as_bytes();
        let pair = |(k, v): &(Range<usize>, Range<usize>)| (&text[k.clone()], &text[v.clone()]);
        if self.pairs.windows(2).all(|w| pair(&w[0]) < pair(&w[1])) {
            return Cow::Borrowed(text);
        }
        let mut pairs: Vec<_> = self.pairs.iter().map(pair).collect();
        pairs.sort_unstable();
        pairs.dedup();
        Cow::Owned(pairs.into_iter().flat_map(|(k, v)| [k, v]).flatten().copied().collect())
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// A parameter looked up by name, not yet parsed.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    pub name: &'static str,
    /// The first value, if the parameter is present.
    pub value: Option<&'a str>,
}

impl Found<'_> {
    /// Parses the value, which must be present and not empty.
    pub fn required<T: Field>(self) -> Result<T, Error> {
        match self.value {
            Some(raw) if !raw.is_empty() => T::parse(self.name, raw),
            _ => Err(Error::Missing(self.name)),
        }
    }

    /// Parses the value if there is one; an empty value counts as absent.
    pub fn optional<T: Field>(self) -> Result<Option<T>, Error> {
        self.value.filter(|raw| !raw.is_empty()).map(|raw| T::parse(self.name, raw)).transpose()
    }
}

/// Looks up several parameters in one pass, matching each key against the
/// names, where calling [`Params::get`] for each name would scan them all again.
/// Binds each name's [`Found`] to the variable given beside it.
macro_rules! find_params {
    ($params:expr => { $($var:ident: $name:literal),+ $(,)? }) => {
        $(let mut $var = $crate::params::Found { name: $name, value: None };)+
        for (key, value) in $params.iter() {
            let found = match key {
                $($name => &mut $var,)+
                _ => continue,
            };
            found.value.get_or_insert(value);
        }
    };
}
pub(crate) use find_params;

/// The raw query string of a URL: between `?` and any `#`.
pub fn query_of(url: &str) -> &str {
    url.split_once('?').map_or("", |(_, query)| query.split('#').next().unwrap_or_default())
}

fn hex_value(digit: u8) -> u8 {
    (digit as char).to_digit(16).unwrap_or(0) as u8
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Params {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Self {
        let mut params = Params::default();
        iter.into_iter().for_each(|(k, v)| params.push(k, v));
        params
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A list of `[key, value]` pairs, as [`Serialize`] writes it.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Params {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let text = ObjectBuilder::new().schema_type(Type::String);
        let pair = ArrayBuilder::new().items(text).min_items(Some(2)).max_items(Some(2));
        ArrayBuilder::new().items(pair).description(Some("Every parameter as received, in order, as [key, value] pairs")).into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Params {}

/// Serialises as a list of `[key, value]` pairs, which keeps order and repeats.
impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

/// Reads back what [`Serialize`] wrote.
impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(deserializer)?;
        Ok(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &Params) -> Vec<(&str, &str)> {
        p.iter().collect()
    }

    #[test]
    fn form_decoding_keeps_order_repeats_and_empty_values() {
        let p = Params::from_form(b"To=%2B18005551212&Digits=5678&Digits=1234&CallerName=&Flag&&Note=a+b%26c%3Dd").unwrap();
        assert_eq!(
            pairs(&p),
            [("To", "+18005551212"), ("Digits", "5678"), ("Digits", "1234"), ("CallerName", ""), ("Flag", ""), ("Note", "a b&c=d")]
        );
        assert_eq!(p.get("Digits"), Some("5678"));
        assert_eq!(p.get("Absent"), None);
    }

    #[test]
    fn a_value_keeps_every_equals_sign_after_the_first() {
        let p = Params::from_form(b"a=b=c&d==&=e").unwrap();
        assert_eq!(pairs(&p), [("a", "b=c"), ("d", "="), ("", "e")]);
    }

    #[test]
    fn invalid_percent_sequences_stay_literal() {
        let p = Params::from_form(b"a=100%&b=%zz&c=%4").unwrap();
        assert_eq!(pairs(&p), [("a", "100%"), ("b", "%zz"), ("c", "%4")]);
    }

    #[test]
    fn multibyte_utf8_decodes() {
        let p = Params::from_form("CallerName=Jos%C3%A9+M%C3%BCller&City=Z%C3%BCrich".as_bytes()).unwrap();
        assert_eq!(p.get("CallerName"), Some("José Müller"));
        assert_eq!(p.get("City"), Some("Zürich"));
    }

    #[test]
    fn invalid_utf8_is_refused_naming_the_parameter() {
        let err = Params::from_form(b"CallSid=CA1&CallerName=%FF%FE").unwrap_err();
        assert_eq!(err.to_string(), r#"malformed body: parameter "CallerName" is not valid UTF-8"#);
        assert_eq!(err.http_status(), 400);
        let err = Params::from_form(b"Ok=1&Caller\xffName=x").unwrap_err();
        assert!(err.to_string().contains("is not valid UTF-8"), "{err}");
    }

    #[test]
    fn json_objects_become_params() {
        let p = Params::from_json(br#"{"CallSid":"CA1","SequenceNumber":3,"Bridged":true,"Gone":null,"Tag":["a","b"],"Nested":{"x":1}}"#)
            .unwrap();
        let mut got = pairs(&p);
        got.sort();
        assert_eq!(
            got,
            [
                ("Bridged", "true"),
                ("CallSid", "CA1"),
                ("Gone", ""),
                ("Nested", r#"{"x":1}"#),
                ("SequenceNumber", "3"),
                ("Tag", "a"),
                ("Tag", "b")
            ]
        );
    }

    #[test]
    fn json_that_is_not_an_object_is_refused() {
        for body in [&b"[1,2]"[..], b"\"x\"", b"{", b""] {
            let err = Params::from_json(body).unwrap_err();
            assert!(err.to_string().starts_with("malformed body: expected a JSON object"), "{err}");
        }
    }

    #[test]
    fn signing_tail_sorts_and_dedupes_only_when_needed() {
        let sorted = Params::from_form(b"AccountSid=AC1&CallSid=CA1&CallStatus=ringing&Called=%2B1").unwrap();
        assert!(matches!(sorted.signing_tail(), Cow::Borrowed(_)), "Twilio's own order needs no copy");
        assert_eq!(&*sorted.signing_tail(), b"AccountSidAC1CallSidCA1CallStatusringingCalled+1");
        let shuffled = Params::from_form(b"Digits=5678&Called=%2B1&Digits=1234&Digits=5678&Empty=").unwrap();
        assert_eq!(&*shuffled.signing_tail(), b"Called+1Digits1234Digits5678Empty");
    }

    /// Form-encodes like a browser or Twilio might: `+` or `%20` for a space,
    /// upper or lower case hex, safe characters left as they are.
    fn encode(text: &str, plus_for_space: bool, lower_hex: bool) -> String {
        text.bytes()
            .map(|b| match b {
                b' ' if plus_for_space => "+".to_owned(),
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'*' => (b as char).to_string(),
                _ if lower_hex => format!("%{b:02x}"),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn form_decoding_inverts_form_encoding(
            pairs in proptest::collection::vec((".+", ".*"), 0..20),
            plus_for_space: bool,
            lower_hex: bool,
        ) {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k, plus_for_space, lower_hex), encode(v, plus_for_space, lower_hex))).collect();
            let decoded = Params::from_form(body.join("&").as_bytes()).unwrap();
            let expected: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            proptest::prop_assert_eq!(decoded.iter().collect::<Vec<_>>(), expected);
        }

        #[test]
        fn any_bytes_decode_or_are_refused_as_not_utf8(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            match Params::from_form(&body) {
                // What decoded survives encoding and decoding again unchanged.
                Ok(params) => {
                    let again: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k, true, false), encode(v, true, false))).collect();
                    let again = Params::from_form(again.join("&").as_bytes()).unwrap();
                    proptest::prop_assert_eq!(again.iter().collect::<Vec<_>>(), params.iter().collect::<Vec<_>>());
                }
                Err(err) => proptest::prop_assert!(err.to_string().ends_with("is not valid UTF-8"), "{}", err),
            }
        }
    }

    #[test]
    fn serialises_as_ordered_pairs_and_reads_back() {
        let p: Params = [("b", "2"), ("a", "1"), ("b", "3")].into_iter().collect();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"[["b","2"],["a","1"],["b","3"]]"#);
        let back: Params = serde_json::from_str(&json).unwrap();
        assert_eq!(pairs(&back), pairs(&p));
        assert_eq!(format!("{p:?}"), r#"[("b", "2"), ("a", "1"), ("b", "3")]"#);
        assert!(!p.is_empty() && Params::default().is_empty());
    }
}
