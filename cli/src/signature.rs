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
            println!("{}", signature::sign(&args.auth_token, algorithm, &args.url, payload));
            Ok(())
        }
        Command::Verify(args) => {
            let (content_type, body) = match (&args.body.form_body, &args.body.json_body) {
                (Some(form), _) => (Some("application/x-www-form-urlencoded"), form.as_str()),
                (None, Some(json)) => (Some("application/json"), json.as_str()),
                (None, None) => (None, ""),
            };
            let mut keys = Keyring::default().with_token(&args.auth_token);
            if let Some(id) = args.settings.as_deref().and_then(|s| signature::setting(s, "key")) {
                keys = keys.with_shared_key(id, &args.auth_token);
            }
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
