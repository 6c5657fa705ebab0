//! `GET /api/numbers` (the tenant's tracking numbers), and for its admins
//! `PUT /api/numbers/{phoneNumber}` (add one, or replace its settings) and
//! `DELETE /api/numbers/{phoneNumber}`. Another tenant's number is as if it
//! did not exist: 404, and never taken over.

use crate::principal::{Principal, Role};
use crate::problem::Problem;
use calltrack_core::ports::ManageTenantNumbers;
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_twilio::fields::{AccountSid, Field, PhoneNumber};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub struct NumberList {
    pub numbers: Vec<TrackingNumber>,
}

/// What `PUT` takes: a number's owner and settings. The tenant is the token's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NumberBody {
    user_id: String,
    forward_to: String,
    account_sid: Option<String>,
    lead_source: Option<String>,
    record: Option<bool>,
    voicemail: Option<bool>,
    whisper: Option<String>,
    disclosure: Option<String>,
    min_talk_seconds: Option<u32>,
    active: Option<bool>,
}

/// The most conversation a number may ask of a qualified lead: an hour.
const MAX_MIN_TALK_SECONDS: u32 = 3600;

pub async fn list<S: ManageTenantNumbers>(store: &S, principal: &Principal) -> Result<NumberList, Problem> {
    Ok(NumberList { numbers: store.numbers_of(&principal.tenant).await? })
}

pub async fn put<S: ManageTenantNumbers>(store: &S, principal: &Principal, number: &str, body: &[u8]) -> Result<TrackingNumber, Problem> {
    admin_only(principal)?;
    let phone_number = phone_number(number)?;
    let number = tracking_number(principal, phone_number, body)?;
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

/// The number a `PUT` body describes, each field checked and named when wrong.
fn tracking_number(principal: &Principal, phone_number: PhoneNumber, body: &[u8]) -> Result<TrackingNumber, Problem> {
    let body: NumberBody = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|err| {
        let path = err.path().to_string();
        let reason = err.inner().to_string();
        // At the top level serde names the field in its message: `missing field `userId``.
        let name = match path.as_str() {
            "." => reason.split('`').nth(1).unwrap_or("body").to_owned(),
            _ => path,
        };
        Problem::invalid(&name, reason.split(" at line ").next().unwrap_or_default().to_owned())
    })?;
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
        phone_number,
        tenant_id: principal.tenant.to_string(),
        user_id: body.user_id,
        account_sid: body.account_sid.map(|sid| AccountSid::parse("accountSid", &sid)).transpose()?,
        lead_source: text("leadSource", body.lead_source)?,
        forward_to: PhoneNumber::e164("forwardTo", &body.forward_to)?,
        record: body.record.unwrap_or(true),
        voicemail: body.voicemail.unwrap_or(true),
        whisper: text("whisper", body.whisper)?,
        disclosure: text("disclosure", body.disclosure)?,
        min_talk_seconds: body.min_talk_seconds,
        active: body.active.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use calltrack_core::view::TenantId;

    fn admin() -> Principal {
        Principal { tenant: TenantId::parse("tenant", "acme").unwrap(), user_id: "jane".into(), role: Role::Admin }
    }

    #[test]
    fn a_body_becomes_the_tokens_tenants_number_with_the_defaults() {
        let number =
            tracking_number(&admin(), PhoneNumber::e164("n", "+18005551212").unwrap(), br#"{"userId":"bob","forwardTo":"+14155550123"}"#)
                .unwrap();
        assert_eq!((number.tenant_id.as_str(), number.user_id.as_str(), number.forward_to.as_str()), ("acme", "bob", "+14155550123"));
        assert!(number.record && number.voicemail && number.active);
        assert_eq!((number.lead_source, number.min_talk_seconds, number.account_sid), (None, None, None));
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
            (r#"{"userId":"bob","forwardTo":"+14155550123","accountSid":"AC1"}"#, "accountSid", "is not"),
            (r#"{"userId":"bob","forwardTo":"+14155550123","whisper":" "}"#, "whisper", "is empty"),
            (r#"{"userId":" ","forwardTo":"+14155550123"}"#, "userId", "is empty"),
            ("not json", "body", "expected ident"),
        ] {
            let problem = tracking_number(&admin(), PhoneNumber::e164("n", "+18005551212").unwrap(), body.as_bytes()).unwrap_err();
            assert_eq!((problem.status, problem.invalid_params[0].name.as_str()), (400, name), "{body}");
            assert!(problem.invalid_params[0].reason.starts_with(reason), "{body}: {}", problem.invalid_params[0].reason);
        }
    }
}
