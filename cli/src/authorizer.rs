//! API Gateway's JWT authorizer, as `calltrack serve` plays it for the API's
//! routes: the issuer's keys found through OIDC discovery, then for each
//! request a bearer token signed (RS256) by one of them, from that issuer,
//! for the audience (its `aud`, or else its `client_id`), not expired and
//! already valid. Its claims reach the API as API Gateway passes them: each
//! as a string, a list as `[a b]`.

use crate::Failure;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;

/// The development issuer and audience of `calltrack token`, and its key pair
/// (cli/dev/README.md: published, so it protects nothing and nothing deployed trusts it).
pub const DEV_ISSUER: &str = "calltrack-dev";
pub const DEV_KEY_ID: &str = "calltrack-dev-1";
pub const DEV_PRIVATE_KEY: &str = include_str!("../dev/dev-token-key.pem");
const DEV_JWKS: &str = include_str!("../dev/dev-token-jwks.json");

pub struct JwtAuthorizer {
    issuer: String,
    audience: Vec<String>,
    keys: JwkSet,
}

impl JwtAuthorizer {
    /// The authorizer for `issuer`'s tokens for `audience`, with the keys its
    /// discovery document names.
    pub async fn discover(issuer: &str, audience: &[String]) -> Result<Self, Failure> {
        if audience.is_empty() {
            return Err(Failure::from("--jwt-audience: give the audience the API's tokens carry (their aud or client_id)".to_owned()));
        }
        let http =
            reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().map_err(|e| Failure::from(e.to_string()))?;
        let discovery_url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let fetch = |url: String| {
            let http = http.clone();
            async move {
                let response = http.get(&url).send().await.and_then(|r| r.error_for_status());
                let body = response.map_err(|e| Failure::from(format!("--jwt-issuer: reading {url}: {e}")))?.bytes().await;
                body.map_err(|e| Failure::from(format!("--jwt-issuer: reading {url}: {e}")))
            }
        };
        let discovery: Value = serde_json::from_slice(&fetch(discovery_url.clone()).await?)
            .map_err(|e| Failure::from(format!("--jwt-issuer: {discovery_url} is not an OIDC discovery document: {e}")))?;
        let jwks_uri =
            discovery["jwks_uri"].as_str().ok_or_else(|| Failure::from(format!("--jwt-issuer: {discovery_url} names no jwks_uri")))?;
        let keys: JwkSet = serde_json::from_slice(&fetch(jwks_uri.to_owned()).await?)
            .map_err(|e| Failure::from(format!("--jwt-issuer: {jwks_uri} is not a JSON Web Key Set: {e}")))?;
        Ok(JwtAuthorizer { issuer: issuer.to_owned(), audience: audience.to_vec(), keys })
    }

    /// The authorizer of `calltrack token`'s development tokens, and of nothing else.
    pub fn dev() -> Self {
        let keys = serde_json::from_str(DEV_JWKS).expect("cli/dev/dev-token-jwks.json is a JWKS");
        JwtAuthorizer { issuer: DEV_ISSUER.to_owned(), audience: vec![DEV_ISSUER.to_owned()], keys }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The claims of the token in an `Authorization` header, or why it is refused.
    pub fn claims(&self, authorization: Option<&str>) -> Result<HashMap<String, String>, String> {
        let header = authorization.ok_or("no Authorization header")?;
        let token = header.strip_prefix("Bearer ").unwrap_or(header).trim();
        let head = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
        let kid = head.kid.ok_or("the token names no key (kid)")?;
        let jwk = self.keys.find(&kid).ok_or_else(|| format!("the issuer has no key {kid}"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key {kid}: {e}"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        // As API Gateway: a token must name its issuer and expiry; jsonwebtoken checks iss only when present.
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation).map_err(|e| e.to_string())?.claims;
        // API Gateway takes `aud` when the token has one, else `client_id` (Cognito's access tokens).
        let audiences: Vec<&str> = match claims.get("aud").or_else(|| claims.get("client_id")) {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !audiences.iter().any(|a| self.audience.iter().any(|ours| ours == a)) {
            return Err("the token is not for this audience".to_owned());
        }
        Ok(claims.into_iter().map(|(name, value)| (name, as_api_gateway_passes(&value))).collect())
    }
}

/// A claim as API Gateway hands it to the function: a string as it is, a list
/// as `[a b]`, anything else as its JSON.
fn as_api_gateway_passes(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(as_api_gateway_passes).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_passed_as_api_gateway_passes_them() {
        assert_eq!(as_api_gateway_passes(&serde_json::json!("acme")), "acme");
        assert_eq!(as_api_gateway_passes(&serde_json::json!(["admin", "sales"])), "[admin sales]");
        assert_eq!(as_api_gateway_passes(&serde_json::json!(1764000000)), "1764000000");
        assert_eq!(as_api_gateway_passes(&serde_json::json!(true)), "true");
    }
}
