//! `calltrack signature sign|verify`: the first thing every Twilio user debugs.
//! `verify` prints `valid` (exit 0) or `invalid: <reason>` (exit 1); a usage
//! error exits 2.

use crate::Failure;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Keyring, Params, RawRequest, Webhook};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Prints the X-Twilio-Signature Twilio would send
    Sign(SignArgs),
    /// Checks an X-Twilio-Signature: prints `valid` (exit 0) or `invalid: <reason>` (exit 1)
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct Body {
    /// The form-urlencoded body, exactly as sent
    #[arg(long, conflicts_with = "json_body")]
    form_body: Option<String>,
    /// The raw JSON body (its SHA-256 must be the URL's bodySHA256)
    #[arg(long)]
    json_body: Option<String>,
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// The auth token. A list as `serve` takes it (`new,old`, `AC…=token`,
    /// `key:id=secret`) signs with its first token, as Twilio signs with the
    /// primary; with --sha256, with its first shared key
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    auth_token: String,
    /// The full URL Twilio requests, query included
    #[arg(long)]
    url: String,
    /// Sign with HMAC-SHA256 (a shared key) instead of HMAC-SHA1
    #[arg(long)]
    sha256: bool,
    #[command(flatten)]
    body: Body,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The auth token, or a list as `serve` takes it (`new,old`, `AC…=token`,
    /// `key:id=secret`): valid when any of them signed it
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    auth_token: String,
    /// The full URL Twilio requested, query included
    #[arg(long)]
    url: String,
    /// The X-Twilio-Signature header
    #[arg(long, allow_hyphen_values = true)]
    signature: String,
    #[arg(long, default_value = "POST", value_parser = ["POST", "GET"])]
    method: String,
    /// The X-Twilio-Webhooks-Signature-Settings header, for a shared key (`key=<id>,algorithm=HMAC_SHA256`)
    #[arg(long)]
    settings: Option<String>,
    #[command(flatten)]
    body: Body,
}

/// Whether `--auth-token` is a list as `serve` takes it rather than one token.
fn is_list(text: &str) -> bool {
    text.contains([',', '\n']) || (text.contains('=') && (text.starts_with("AC") || text.starts_with("key:")))
}

fn keyring(text: &str) -> Result<Keyring, Failure> {
    Keyring::parse(text).map_err(|e| Failure::from(format!("--auth-token: {e}")))
}

/// The secret to sign with, from a token or a list of them as `serve` reads
/// `TWILIO_AUTH_TOKEN` (`Keyring::parse`): the first plain token (the primary),
/// else the first account's token; for HMAC-SHA256 the first shared key's
/// secret, else that token. A single value is used as it is.
pub fn signing_secret(text: &str, algorithm: Algorithm) -> Result<String, Failure> {
    if !is_list(text) {
        return Ok(text.to_owned());
    }
    keyring(text)?;
    let entries: Vec<&str> = text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty()).collect();
    let plain = entries.iter().find(|e| !e.contains('='));
    let account = entries.iter().find_map(|e| e.split_once('=').filter(|(id, _)| id.starts_with("AC")).map(|(_, token)| token));
    let shared = entries.iter().find_map(|e| e.split_once('=').filter(|(id, _)| id.starts_with("key:")).map(|(_, secret)| secret));
    let token = plain.copied().or(account);
    let secret = match algorithm {
        Algorithm::HmacSha1 => token,
        Algorithm::HmacSha256 => shared.or(token),
    };
    secret.map(str::to_owned).ok_or_else(|| Failure::from("--auth-token: no auth token to sign with, only shared keys".to_owned()))
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Sign(args) => {
            let algorithm = if args.sha256 { Algorithm::HmacSha256 } else { Algorithm::HmacSha1 };
            let params;
            let payload = match (&args.body.form_body, &args.body.json_body) {
                (Some(form), _) => {
                    params = Params::from_form(form.as_bytes())?;
                    Payload::Form(&params)
                }
                (None, Some(json)) => Payload::Json(json.as_bytes()),
                (None, None) => Payload::UrlOnly,
            };
            println!("{}", signature::sign(&signing_secret(&args.auth_token, algorithm)?, algorithm, &args.url, payload));
            Ok(())
        }
        Command::Verify(args) => {
            let (content_type, body) = match (&args.body.form_body, &args.body.json_body) {
                (Some(form), _) => (Some("application/x-www-form-urlencoded"), form.as_str()),
                (None, Some(json)) => (Some("application/json"), json.as_str()),
                (None, None) => (None, ""),
            };
            // A list checks as `serve` would: against every token and key in it.
            let keys = if is_list(&args.auth_token) {
                keyring(&args.auth_token)?
            } else {
                let keys = Keyring::default().with_token(&args.auth_token);
                match args.settings.as_deref().and_then(|s| signature::setting(s, "key")) {
                    Some(id) => keys.with_shared_key(id, &args.auth_token),
                    None => keys,
                }
            };
            let raw = RawRequest {
                method: &args.method,
                url: &args.url,
                content_type,
                body: body.as_bytes(),
                signature: Some(&args.signature),
                settings: args.settings.as_deref(),
            };
            match Webhook::from_raw(raw).and_then(|hook| hook.verify(&keys)) {
                Ok(()) => {
                    println!("valid");
                    Ok(())
                }
                Err(err) => {
                    let reason = err.to_string();
                    println!("invalid: {}", reason.strip_prefix("invalid signature: ").unwrap_or(&reason));
                    Err(Failure { message: String::new(), code: 1 })
                }
            }
        }
    }
}
