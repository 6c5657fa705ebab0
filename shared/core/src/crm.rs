//! CRM links. A CRM that places calls adds query parameters to our webhook
//! URLs, and Twilio's signature covers them: `userId` says whose call it is
//! (for outbound calls), and `contactId`, `dealId`, `jobId` and any `crm_*` say
//! what the call belongs to.

use calltrack_twilio::Error;
use calltrack_twilio::params::{Params, query_of};
use std::collections::BTreeMap;

/// The CRM parameters of one webhook URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrmLinks {
    /// `userId`: the user the call belongs to, within the number's tenant.
    pub user_id: Option<String>,
    /// `contactId`, `dealId`, `jobId` and `crm_*`, stored on the call as they are.
    pub links: BTreeMap<String, String>,
}

impl CrmLinks {
    /// Reads the CRM parameters of `url`'s query; other parameters are ignored.
    /// A CRM parameter that is not valid is refused, naming it: for routes no
    /// caller waits on.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let (crm, refused) = Self::read_url(url);
        match refused.into_iter().next() {
            None => Ok(crm),
            Some(first) => Err(first),
        }
    }

    /// Reads the CRM parameters of `url`'s query for a route a caller waits on:
    /// the valid ones are kept, and each one that is not valid is left out, its
    /// reason returned beside them (the first, in query order, is the one
    /// [`CrmLinks::from_url`] refuses). An invalid `userId` leaves the call
    /// its number's user.
    pub fn read_url(url: &str) -> (Self, Vec<Error>) {
        match Params::from_form(query_of(url).as_bytes()) {
            Ok(query) => Self::read_pairs(query.iter()),
            Err(err) => (CrmLinks::default(), vec![err]),
        }
    }

    /// The CRM parameters among `pairs`, as [`CrmLinks::read_url`] reads a query's.
    pub fn read_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Self, Vec<Error>) {
        let mut crm = CrmLinks::default();
        let mut refused = Vec::new();
        for (key, value) in pairs {
            let linked = matches!(key, "contactId" | "dealId" | "jobId") || key.starts_with("crm_");
            if key != "userId" && !linked {
                continue;
            }
            if !is_name(key) {
                refused.push(Error::invalid(key, "is not a valid CRM parameter name (crm_ and up to 40 of a-z A-Z 0-9 _)"));
                continue;
            }
            if key == "userId" && !is_user_id(value) {
                refused.push(Error::invalid(key, format!("is not a valid user id: {value:?} ({USER_ID_RULE})")));
                continue;
            }
            if key != "userId" && !is_id(value) {
                refused.push(Error::invalid(key, format!("is not a valid id: {value:?} (1 to 128 of A-Z a-z 0-9 . _ : @ -)")));
                continue;
            }
            match key {
                "userId" => crm.user_id = Some(value.to_owned()),
                _ => {
                    crm.links.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        (crm, refused)
    }

    /// The links as the query of a URL we give Twilio (`userId=…&contactId=…`,
    /// percent-encoded), which its signature then covers: what the routes read
    /// back with [`CrmLinks::from_url`]. A `userId` that read would refuse
    /// ([`CrmLinks::carries_user`]) is left out.
    pub fn to_query(&self) -> String {
        let user = self.user_id.iter().filter(|user| is_user_id(user)).map(|user| ("userId", user.as_str()));
        let links = self.links.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        user.chain(links).map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
    }

    /// Whether a URL can carry `user` as its `userId`: a token's user of any
    /// provider (a Cognito `sub`, an Auth0 `auth0|…`, an email) can.
    pub fn carries_user(user: &str) -> bool {
        is_user_id(user)
    }
}

/// A value as a URL's query carries it: all but RFC 3986's unreserved characters percent-encoded.
pub fn encode(value: &str) -> String {
    const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(value, ENCODED).to_string()
}

const USER_ID_RULE: &str = "1 to 256 characters, not only spaces, no control characters";

fn is_user_id(value: &str) -> bool {
    (1..=256).contains(&value.chars().count()) && !value.trim().is_empty() && !value.chars().any(char::is_control)
}

fn is_name(key: &str) -> bool {
    key.len() <= 44 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_id(value: &str) -> bool {
    (1..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crm_parameters_are_read_and_others_ignored() {
        let crm = CrmLinks::from_url(
            "https://x.example/api/twilio/voice/answer?userId=u-42&contactId=c_9&dealId=D-1&jobId=77&crm_ticket=T:5&utm_source=ads",
        )
        .unwrap();
        assert_eq!(crm.user_id.as_deref(), Some("u-42"));
        let links: Vec<_> = crm.links.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(links, [("contactId", "c_9"), ("crm_ticket", "T:5"), ("dealId", "D-1"), ("jobId", "77")]);
        assert_eq!(CrmLinks::from_url("https://x.example/a").unwrap(), CrmLinks::default());
    }

    #[test]
    fn an_invalid_parameter_is_refused_by_name() {
        let err = CrmLinks::from_url("https://x.example/a?contactId=%3Cscript%3E").unwrap_err();
        assert_eq!(err.to_string(), r#"contactId is not a valid id: "<script>" (1 to 128 of A-Z a-z 0-9 . _ : @ -)"#);
        assert_eq!(err.http_status(), 400);
        assert!(CrmLinks::from_url("https://x.example/a?userId=").unwrap_err().to_string().starts_with("userId is not a valid user id"));
        assert!(CrmLinks::from_url(&format!("https://x.example/a?dealId={}", "9".repeat(129))).is_err());
        assert!(
            CrmLinks::from_url("https://x.example/a?crm_a%2Db=1")
                .unwrap_err()
                .to_string()
                .starts_with("crm_a-b is not a valid CRM parameter name")
        );
    }

    #[test]
    fn a_lenient_read_keeps_the_valid_parameters_and_says_which_it_left_out() {
        let url = "https://x.example/a?userId=&contactId=c-1&dealId=%3Cb%3E&crm_a%2Db=1&jobId=77&crm_ok=yes";
        let (crm, left_out) = CrmLinks::read_url(url);
        assert_eq!(crm.user_id, None, "an invalid userId leaves the number's user");
        let links: Vec<_> = crm.links.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(links, [("contactId", "c-1"), ("crm_ok", "yes"), ("jobId", "77")]);
        let reasons: Vec<_> = left_out.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            reasons,
            [
                r#"userId is not a valid user id: "" (1 to 256 characters, not only spaces, no control characters)"#,
                r#"dealId is not a valid id: "<b>" (1 to 128 of A-Z a-z 0-9 . _ : @ -)"#,
                "crm_a-b is not a valid CRM parameter name (crm_ and up to 40 of a-z A-Z 0-9 _)",
            ]
        );
        assert_eq!(CrmLinks::from_url(url).unwrap_err().to_string(), reasons[0], "the strict read refuses the first");
        assert_eq!(
            CrmLinks::read_url("https://x.example/a?contactId=c-1"),
            (CrmLinks::from_url("https://x.example/a?contactId=c-1").unwrap(), vec![])
        );
    }

    #[test]
    fn links_go_into_a_url_and_come_back_the_same() {
        let (crm, refused) = CrmLinks::read_pairs([("userId", "u@x.example"), ("contactId", "c:1"), ("crm_ticket", "T-9"), ("other", "x")]);
        assert!(refused.is_empty());
        let query = crm.to_query();
        assert_eq!(query, "userId=u%40x.example&contactId=c%3A1&crm_ticket=T-9");
        assert_eq!(CrmLinks::from_url(&format!("https://x.example/a?{query}")).unwrap(), crm);
        let auth0 = CrmLinks { user_id: Some("auth0|Jane Doe".into()), ..crm.clone() };
        assert_eq!(auth0.to_query(), "userId=auth0%7CJane%20Doe&contactId=c%3A1&crm_ticket=T-9", "any provider's user id");
        assert_eq!(CrmLinks::from_url(&format!("https://x.example/a?{}", auth0.to_query())).unwrap(), auth0);
        let odd_user = CrmLinks { user_id: Some("line\nbreak".into()), ..crm.clone() };
        assert_eq!(odd_user.to_query(), "contactId=c%3A1&crm_ticket=T-9", "a user id a URL cannot carry is left out");
        assert!(!CrmLinks::carries_user("line\nbreak") && !CrmLinks::carries_user(" ") && CrmLinks::carries_user("a@b.example"));
    }

    #[test]
    fn a_query_that_does_not_decode_gives_no_links() {
        let (crm, left_out) = CrmLinks::read_url("https://x.example/a?contactId=%FF");
        assert_eq!(crm, CrmLinks::default());
        assert_eq!(left_out.len(), 1);
        assert!(left_out[0].to_string().starts_with("malformed body"), "{}", left_out[0]);
        assert!(CrmLinks::from_url("https://x.example/a?contactId=%FF").is_err());
    }
}
