//! `GET /api/numbers` (the tenant's tracking numbers), and for its admins
//! `PUT /api/numbers/{phoneNumber}` (replace one's settings) and
//! `DELETE /api/numbers/{phoneNumber}`. A number is added by the operator
//! (`calltrack numbers add`), who bought it in a Twilio account and binds it
//! to that account: through the API a tenant can neither add a number nor
//! change its binding, so it can never take one over, nor tell a free number
//! from another tenant's. Both are a 404, as a number nobody has.

use crate::principal::{Principal, Role};
use crate::problem::{Problem, read_body};
use calltrack_core::ports::{LookUpNumbers, ManageTenantNumbers};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_twilio::fields::PhoneNumber;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NumberList {
    pub numbers: Vec<TrackingNumber>,
}

/// What `PUT` takes: a number's owner and settings. The tenant and the Twilio
/// account it is bound to stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NumberBody {
    /// The user whose calls the number's are.
    #[schema(pattern = r"\S")]
    user_id: String,
    /// Where calls are forwarded, in E.164.
    #[schema(pattern = r"^\+[1-9][0-9]{1,14}$")]
    forward_to: String,
    /// Each text, when given, holds more than spaces.
    #[schema(pattern = r"\S")]
    lead_source: Option<String>,
    record: Option<bool>,
    voicemail: Option<bool>,
    #[schema(pattern = r"\S")]
    whisper: Option<String>,
    #[schema(pattern = r"\S")]
    disclosure: Option<String>,
    /// The business presses 1 to take a forwarded call (off unless set).
    screen: Option<bool>,
    /// Calls placed from the number count as leads when they qualify (off unless set).
    qualify_outbound: Option<bool>,
    #[schema(maximum = 3600)]
    #[serde(default, deserialize_with = "whole_number")]
    min_talk_seconds: Option<u32>,
    active: Option<bool>,
}

/// A whole number, written `15` or `15.0` (JSON Schema's integers are both).
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let number: Option<f64> = Option::deserialize(deserializer)?;
    number
        .map(|n| match n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
            true => Ok(n as u32),
            false => Err(serde::de::Error::custom(format!("must be a whole number of seconds, not {n}"))),
        })
        .transpose()
}

/// The most conversation a number may ask of a qualified lead: an hour.
const MAX_MIN_TALK_SECONDS: u32 = 3600;

pub async fn list<S: ManageTenantNumbers>(store: &S, principal: &Principal) -> Result<NumberList, Problem> {
    Ok(NumberList { numbers: store.numbers_of(&principal.tenant).await? })
}

pub async fn put<S: LookUpNumbers + ManageTenantNumbers>(
    store: &S,
    principal: &Principal,
    number: &str,
    body: &[u8],
) -> Result<TrackingNumber, Problem> {
    admin_only(principal)?;
    let phone_number = phone_number(number)?;
    let stored = store.tracking_number(&phone_number).await?.filter(|n| n.tenant_id == principal.tenant.as_str());
    let Some(stored) = stored else { return Err(not_found(&phone_number)) };
    let number = tracking_number(stored, body)?;
    // Conditional on the tenant still: an operator may have moved it meanwhile.
    match store.put_number_of(&number).await? {
        true => Ok(number),
        false => Err(not_found(&number.phone_number)),
    }
}

pub async fn delete<S: ManageTenantNumbers>(store: &S, principal: &Principal, number: &str) -> Result<(), Problem> {
    admin_only(principal)?;
    let phone_number = phone_number(number)?;
    match store.remove_number_of(&principal.tenant, &phone_number).await? {
        true => Ok(()),
        false => Err(not_found(&phone_number)),
    }
}

fn admin_only(principal: &Principal) -> Result<(), Problem> {
    match principal.role {
        Role::Admin => Ok(()),
        Role::Member => Err(Problem::forbidden("only the tenant's admins may change its numbers")),
    }
}

/// The path's number, percent-decoded (`%2B1…` or `+1…`), in E.164.
fn phone_number(segment: &str) -> Result<PhoneNumber, Problem> {
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    Ok(PhoneNumber::e164("phoneNumber", &decoded)?)
}

fn not_found(number: &PhoneNumber) -> Problem {
    Problem::not_found(format!("no tracking number {number} in this tenant"))
}

/// `stored` with the settings a `PUT` body gives, each field checked and named
/// when wrong; its number, tenant and account stay.
fn tracking_number(stored: TrackingNumber, body: &[u8]) -> Result<TrackingNumber, Problem> {
    let body: NumberBody = read_body(body)?;
    let text = |name: &str, value: Option<String>| -> Result<Option<String>, Problem> {
        match value {
            Some(v) if v.trim().is_empty() => Err(Problem::invalid(name, "is empty: leave it out instead")),
            other => Ok(other),
        }
    };
    if body.user_id.trim().is_empty() {
        return Err(Problem::invalid("userId", "is empty"));
    }
    if let Some(seconds) = body.min_talk_seconds.filter(|s| *s > MAX_MIN_TALK_SECONDS) {
        return Err(Problem::invalid("minTalkSeconds", format!("must be at most {MAX_MIN_TALK_SECONDS}, not {seconds}")));
    }
    Ok(TrackingNumber {
        user_id: body.user_id,
        lead_source: text("leadSource", body.lead_source)?,
        forward_to: PhoneNumber::e164("forwardTo", &body.forward_to)?,
        record: body.record.unwrap_or(true),
        voicemail: body.voicemail.unwrap_or(true),
        whisper: text("whisper", body.whisper)?,
        disclosure: text("disclosure", body.disclosure)?,
        screen: body.screen.unwrap_or(false),
        qualify_outbound: body.qualify_outbound.unwrap_or(false),
        min_talk_seconds: body.min_talk_seconds,
        active: body.active.unwrap_or(true),
        ..stored
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use calltrack_twilio::fields::{AccountSid, Field};

    fn stored() -> TrackingNumber {
        TrackingNumber {
            phone_number: PhoneNumber::e164("n", "+18005551212").unwrap(),
            tenant_id: "acme".into(),
            user_id: "jane".into(),
            account_sid: Some(AccountSid::parse("a", "AC0123456789abcdef0123456789abcdef").unwrap()),
            lead_source: Some("Billboard".into()),
            forward_to: PhoneNumber::e164("f", "+14155550100").unwrap(),
            record: false,
            voicemail: false,
            whisper: None,
            disclosure: None,
            screen: false,
            qualify_outbound: false,
            min_talk_seconds: Some(10),
            active: true,
        }
    }

    #[test]
    fn a_body_sets_the_settings_and_keeps_number_tenant_and_account() {
        let number = tracking_number(stored(), br#"{"userId":"bob","forwardTo":"+14155550123"}"#).unwrap();
        assert_eq!((number.tenant_id.as_str(), number.user_id.as_str(), number.forward_to.as_str()), ("acme", "bob", "+14155550123"));
        assert!(number.record && number.voicemail && number.active, "what the body leaves out takes its default");
        assert!(!number.screen, "screening is off unless set");
        let screened = tracking_number(stored(), br#"{"userId":"bob","forwardTo":"+14155550123","screen":true}"#).unwrap();
        assert!(screened.screen);
        assert_eq!((number.lead_source, number.min_talk_seconds), (None, None));
        assert_eq!(number.account_sid, stored().account_sid, "the binding stays");
        assert_eq!(phone_number("%2B18005551212").unwrap().as_str(), "+18005551212");
        assert_eq!(phone_number("+18005551212").unwrap().as_str(), "+18005551212");
    }

    #[test]
    fn each_bad_field_is_named() {
        for (body, name, reason) in [
            (r#"{"forwardTo":"+14155550123"}"#, "userId", "missing field `userId`"),
            (r#"{"userId":"bob","forwardTo":"+14155550123","tenantId":"other"}"#, "tenantId", "unknown field `tenantId`"),
            (r#"{"userId":"bob","forwardTo":"415-555-0123"}"#, "forwardTo", "is not"),
            (r#"{"userId":"bob","forwardTo":"+14155550123","minTalkSeconds":"30"}"#, "minTalkSeconds", "invalid type: string"),
            (r#"{"userId":"bob","forwardTo":"+14155550123","minTalkSeconds":7200}"#, "minTalkSeconds", "must be at most 3600"),
            (r#"{"userId":"bob","forwardTo":"+14155550123","accountSid":"AC1"}"#, "accountSid", "unknown field `accountSid`"),
            (r#"{"userId":"bob","forwardTo":"+14155550123","whisper":" "}"#, "whisper", "is empty"),
            (r#"{"userId":" ","forwardTo":"+14155550123"}"#, "userId", "is empty"),
            ("not json", "body", "expected ident"),
        ] {
            let problem = tracking_number(stored(), body.as_bytes()).unwrap_err();
            assert_eq!((problem.status, problem.invalid_params[0].name.as_str()), (400, name), "{body}");
            assert!(problem.invalid_params[0].reason.starts_with(reason), "{body}: {}", problem.invalid_params[0].reason);
        }
    }
}
