//! Which URLs a tenant may have its events sent to.

/// The longest endpoint URL taken.
pub const MAX_URL_BYTES: usize = 2048;

/// `raw` as an endpoint URL, or why it is none: HTTPS, since every event
/// carries a customer's phone number. This machine (`localhost`, `127.0.0.1`,
/// `[::1]`), over plain HTTP too, only when `local` (`calltrack serve`, for
/// `calltrack webhooks listen`): in a deployed function it would reach the
/// Lambda runtime's own API. No credentials in it (they would be shown in
/// `GET /api/webhooks/deliveries`), and no fragment, which a POST never sends.
pub fn endpoint_url(raw: &str, local: bool) -> Result<String, String> {
    if raw.len() > MAX_URL_BYTES {
        return Err(format!("is longer than {MAX_URL_BYTES} bytes"));
    }
    let url = reqwest::Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
    let this_machine = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if this_machine && !local {
        return Err("must not be this machine's (localhost): it would reach the function's own host".into());
    }
    match url.scheme() {
        "https" => {}
        "http" if this_machine => {}
        "http" => return Err("must be https (plain http only to localhost, locally)".into()),
        other => return Err(format!("must be https, not {other}")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold credentials; the signature proves who sent each event".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_this_machine_only_locally() {
        let deployed = |raw: &str| endpoint_url(raw, false);
        assert_eq!(deployed("https://crm.example.com/hooks/calls?x=1").as_deref(), Ok("https://crm.example.com/hooks/calls?x=1"));
        assert_eq!(endpoint_url("http://127.0.0.1:4000", true).as_deref(), Ok("http://127.0.0.1:4000/"));
        assert!(endpoint_url("http://localhost:4000/hooks", true).is_ok());
        assert!(endpoint_url("http://[::1]:4000/", true).is_ok());
        for this_machine in ["http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "https://localhost/x", "http://[::1]:4000/"] {
            assert!(deployed(this_machine).unwrap_err().starts_with("must not be this machine's"), "{this_machine}");
        }
        for (raw, why) in [
            ("http://crm.example.com/hooks", "must be https"),
            ("ftp://crm.example.com/", "must be https, not ftp"),
            ("crm.example.com/hooks", "is not a URL"),
            ("https://user:pass@crm.example.com/", "must not hold credentials"),
            ("https://crm.example.com/#x", "must not have a #fragment"),
        ] {
            let err = endpoint_url(raw, true).unwrap_err();
            assert!(err.starts_with(why), "{raw}: {err}");
        }
        assert!(
            endpoint_url(&format!("https://crm.example.com/{}", "a".repeat(MAX_URL_BYTES)), false).unwrap_err().starts_with("is longer")
        );
    }
}
