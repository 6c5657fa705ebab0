//! Who is asking: the tenant, user and role the token's claims name.

use crate::problem::Problem;
use calltrack_core::view::TenantId;
use calltrack_service::settings::ClaimNames;
use calltrack_twilio::fields::Field;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May change the tenant's settings (its numbers, its webhooks).
    Admin,
    /// May read the tenant's calls and set their lead status.
    Member,
}

/// The caller, as its token's claims name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantId,
    pub user_id: String,
    pub role: Role,
}

impl Principal {
    /// The principal of a token whose `claims` API Gateway's authorizer has
    /// checked (it gives each claim as a string; a list as `[a b]`). A token
    /// without a valid tenant or user claim may see nothing: 403.
    pub fn from_claims(claims: &HashMap<String, String>, names: &ClaimNames) -> Result<Principal, Problem> {
        let claim = |name: &str| claims.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let tenant =
            claim(&names.tenant).ok_or_else(|| Problem::forbidden(format!("the token has no {} claim naming its tenant", names.tenant)))?;
        let tenant = TenantId::parse(&names.tenant, tenant).map_err(|e| Problem::forbidden(format!("the token's {e}")))?;
        let user_id =
            claim(&names.user).ok_or_else(|| Problem::forbidden(format!("the token has no {} claim naming its user", names.user)))?;
        // One role, or a list of groups: `admin`, `[admin sales]`, `["admin","sales"]`, `admin,sales`.
        let roles = claim(&names.role).unwrap_or_default();
        let is_admin = roles.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '"')).any(|role| role == names.admin_role);
        Ok(Principal { tenant, user_id: user_id.to_owned(), role: if is_admin { Role::Admin } else { Role::Member } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calltrack_service::Settings;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn principal(pairs: &[(&str, &str)]) -> Result<Principal, Problem> {
        Principal::from_claims(&claims(pairs), &Settings::default().claims)
    }

    #[test]
    fn reads_tenant_user_and_role_from_the_named_claims() {
        let member = principal(&[("custom:tenant_id", "acme"), ("sub", "jane")]).unwrap();
        assert_eq!((member.tenant.as_str(), member.user_id.as_str(), member.role), ("acme", "jane", Role::Member));
        for groups in ["admin", "[admin sales]", "[sales admin]", r#"["sales","admin"]"#, "sales,admin"] {
            let admin = principal(&[("custom:tenant_id", "acme"), ("sub", "jane"), ("cognito:groups", groups)]).unwrap();
            assert_eq!(admin.role, Role::Admin, "{groups}");
        }
        for groups in ["[administrators]", "sales", "", "Admin"] {
            let member = principal(&[("custom:tenant_id", "acme"), ("sub", "jane"), ("cognito:groups", groups)]).unwrap();
            assert_eq!(member.role, Role::Member, "{groups}");
        }
    }

    #[test]
    fn a_token_without_its_tenant_or_user_sees_nothing() {
        for (pairs, detail) in [
            (&[("sub", "jane")][..], "the token has no custom:tenant_id claim naming its tenant"),
            (&[("custom:tenant_id", " "), ("sub", "jane")], "the token has no custom:tenant_id claim naming its tenant"),
            (&[("custom:tenant_id", "a#b"), ("sub", "jane")], "the token's custom:tenant_id is not a valid tenant id"),
            (&[("custom:tenant_id", "acme")], "the token has no sub claim naming its user"),
        ] {
            let problem = principal(pairs).unwrap_err();
            assert_eq!(problem.status, 403);
            assert!(problem.detail.starts_with(detail), "{pairs:?}: {}", problem.detail);
        }
    }
}
