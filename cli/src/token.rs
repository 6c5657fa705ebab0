//! `calltrack token`: a development JWT for the API of `calltrack serve
//! --dev-tokens`, with the claims the API reads (named as the functions'
//! settings name them: `TENANT_CLAIM`, `USER_CLAIM`, `ROLE_CLAIM`).

use crate::Failure;
use crate::authorizer::{DEV_ISSUER, DEV_KEY_ID, DEV_PRIVATE_KEY};
use calltrack_service::Settings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

#[derive(clap::Args)]
pub struct Args {
    /// The tenant the token's user belongs to
    #[arg(long)]
    tenant: String,
    /// The user (the token's subject)
    #[arg(long)]
    user: String,
    /// admin (may change the tenant's numbers) or member
    #[arg(long, default_value = "member", value_parser = ["admin", "member"])]
    role: String,
    /// How long it is valid: 90s, 30m, 1h, 7d
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    ttl: u64,
}

/// `90s`, `30m`, `1h` or `7d` as seconds.
fn parse_ttl(text: &str) -> Result<u64, String> {
    let invalid = || format!("{text:?} is not a duration: give a number and s, m, h or d (90s, 30m, 1h, 7d)");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    Some(number * seconds).filter(|s| (1..=30 * 86_400).contains(s)).ok_or_else(|| format!("{text:?}: from 1s to 30d"))
}

pub fn run(args: Args) -> Result<(), Failure> {
    let claims_named = Settings::from_env()?.claims;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(DEV_ISSUER));
    claims.insert("aud".into(), json!(DEV_ISSUER));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + args.ttl));
    claims.insert(claims_named.user.clone(), json!(args.user));
    claims.insert(claims_named.tenant.clone(), json!(args.tenant));
    let roles = if args.role == "admin" { vec![claims_named.admin_role.clone()] } else { Vec::new() };
    claims.insert(claims_named.role.clone(), json!(roles));
    let header = Header { kid: Some(DEV_KEY_ID.to_owned()), ..Header::new(Algorithm::RS256) };
    let key = EncodingKey::from_rsa_pem(DEV_PRIVATE_KEY.as_bytes()).expect("cli/dev/dev-token-key.pem is an RSA key");
    let token = jsonwebtoken::encode(&header, &Value::Object(claims), &key).map_err(|e| Failure::from(e.to_string()))?;
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_seconds_minutes_hours_and_days() {
        assert_eq!([parse_ttl("90s"), parse_ttl("30m"), parse_ttl("1h"), parse_ttl("7d")], [Ok(90), Ok(1800), Ok(3600), Ok(604_800)]);
        for bad in ["", "h", "1", "1w", "-1h", "0s", "31d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
