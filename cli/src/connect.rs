//! `calltrack numbers connect`: points a Twilio number at the stack through
//! Twilio's REST API (its voice URL and status callback, both POST, with the
//! connection overrides), as one would otherwise click through in the console.
//! Only a number already added as a tracking number is connected, in the Twilio
//! account it is bound to (`numbers add --account`), else the API key's own.

use crate::{Failure, storage};
use calltrack_core::ports::LookUpNumbers;
use calltrack_service::Route;
use calltrack_service::aws::{sdk_config, secure_parameter};
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio_api::{Credentials, DEFAULT_BASE_URL, TwilioApi, VoiceConfig};

#[derive(clap::Args)]
pub struct Args {
    /// The tracking number, E.164; add it first with `numbers add`
    number: String,
    /// The stack's base URL: its ApiBaseUrl output (PublicBaseUrl when that is set)
    #[arg(long)]
    base_url: String,
    /// Where Twilio turns when the stack cannot answer (the number's "primary
    /// handler fails" URL), e.g. a TwiML Bin that still forwards the call
    #[arg(long)]
    fallback_url: Option<String>,
    /// Print what would change, and change nothing
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    twilio: TwilioAccess,
    #[command(flatten)]
    storage: storage::Storage,
}

/// How to reach Twilio's REST API: an API key, from SSM or given directly.
#[derive(clap::Args)]
pub struct TwilioAccess {
    /// The SSM parameter (a SecureString) holding the API key as
    /// {"accountSid":"AC…","apiKeySid":"SK…","apiKeySecret":"…"}
    #[arg(long, env = "TWILIO_API_KEY_PARAMETER")]
    twilio_api_key_parameter: Option<String>,
    /// The account the API key belongs to (instead of the parameter, with the next two)
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    twilio_account_sid: Option<String>,
    /// The API key's SID (SK…)
    #[arg(long, env = "TWILIO_API_KEY")]
    twilio_api_key: Option<String>,
    /// The API key's secret
    #[arg(long, env = "TWILIO_API_SECRET", hide_env_values = true)]
    twilio_api_secret: Option<String>,
    /// Twilio's REST API
    #[arg(long, env = "TWILIO_API_BASE_URL", default_value = DEFAULT_BASE_URL)]
    twilio_api_url: String,
}

impl TwilioAccess {
    /// Twilio's API with the key given, which is needed.
    pub async fn api(&self) -> Result<TwilioApi, Failure> {
        self.optional_api().await?.ok_or_else(|| {
            Failure::from(
                "no Twilio API key: set --twilio-api-key-parameter (the SSM parameter holding it) or TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET (create a key in Twilio's console: Account > API keys & tokens)".to_owned(),
            )
        })
    }

    /// Twilio's API with the key given; none when none is. The API key given
    /// directly (all three parts) wins over the parameter, as
    /// `TWILIO_AUTH_TOKEN` does over its parameter; an empty value counts as unset.
    pub async fn optional_api(&self) -> Result<Option<TwilioApi>, Failure> {
        fn set(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|v| !v.trim().is_empty())
        }
        let direct = [set(&self.twilio_account_sid), set(&self.twilio_api_key), set(&self.twilio_api_secret)];
        let credentials = match (direct, set(&self.twilio_api_key_parameter)) {
            ([Some(account), Some(key), Some(secret)], _) => {
                Credentials::new(account, key, secret).map_err(|e| Failure::from(format!("the Twilio API key: {e}")))?
            }
            ([None, None, None], Some(name)) => {
                let aws = sdk_config(None).await;
                let value = secure_parameter(&aws, name).await.map_err(|e| ssm_failure(name, &e))?;
                Credentials::parse(&value).map_err(|e| Failure::from(format!("SSM parameter {name}: {e}")))?
            }
            ([None, None, None], None) => return Ok(None),
            _ => {
                return Err(Failure::from(
                    "an incomplete Twilio API key: give all of TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET, or none and --twilio-api-key-parameter".to_owned(),
                ));
            }
        };
        TwilioApi::new(&self.twilio_api_url, credentials).map(Some).map_err(|e| Failure::from(e.to_string()))
    }
}

pub async fn run(args: Args) -> Result<(), Failure> {
    let number = PhoneNumber::e164("number", &args.number)?;
    let base_url = stack_base_url(&args.base_url)?;
    let store = args.storage.store().await?;
    let Some(tracking) = store.tracking_number(&number).await.map_err(|e| args.storage.failure(e))? else {
        return Err(Failure::from(format!(
            "{number} is not a tracking number in table {}: add it with `calltrack numbers add` first, or its calls will hear that the number is not in service",
            args.storage.tables()?.numbers
        )));
    };
    let api = args.twilio.api().await?;
    let account = tracking.account_sid.unwrap_or(*api.account_sid());
    let twilio = |e: calltrack_twilio_api::ApiError| Failure::from(format!("{number} in Twilio account {account}: {e}"));
    let Some(incoming) = api.incoming_number(&account, &number).await.map_err(twilio)? else {
        return Err(Failure::from(format!(
            "{number} is not a number of Twilio account {account}: buy it there, or bind the tracking number to the account that has it (`numbers add --account`)"
        )));
    };
    if let Some(other) = incoming.voice_url_overridden_by() {
        return Err(Failure::from(format!(
            "{number} ({}) answers its calls with {other}, which Twilio uses instead of a voice URL: remove it from the number in Twilio's console first",
            incoming.sid
        )));
    }
    let config = VoiceConfig {
        voice_url: Route::Answer.twilio_url(&base_url),
        status_callback: Route::Status.twilio_url(&base_url),
        voice_fallback_url: args.fallback_url.map(|url| stack_url("--fallback-url", &url)).transpose()?,
    };
    println!("{number} ({}, account {account}):", incoming.sid);
    let changes = config.changes(&incoming);
    for change in &changes {
        let was = change.from.as_deref().unwrap_or("(none)");
        match change.changes() {
            true => println!("  {:<22} {was}\n  {:<22} -> {}", change.field, "", change.to),
            false => println!("  {:<22} {was} (unchanged)", change.field),
        }
    }
    if !changes.iter().any(|c| c.changes()) {
        println!("already connected to {base_url}");
        return Ok(());
    }
    if args.dry_run {
        println!("--dry-run: nothing changed");
        return Ok(());
    }
    let updated = api.configure_voice(&account, &incoming.sid, &config).await.map_err(twilio)?;
    println!("connected: calls to {} now go to {}", updated.phone_number, config.voice_url);
    Ok(())
}

/// The stack's base URL as given: absolute, without a path into the API.
fn stack_base_url(text: &str) -> Result<String, Failure> {
    let url = stack_url("--base-url", text)?;
    if url.contains("/api/") {
        return Err(Failure::from(format!("--base-url is the stack's ApiBaseUrl output, without /api/…: {url}")));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn stack_url(flag: &str, text: &str) -> Result<String, Failure> {
    let text = text.trim();
    let absolute = ["https://", "http://"]
        .iter()
        .any(|scheme| text.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')));
    if !absolute || text.contains(char::is_whitespace) {
        return Err(Failure::from(format!("{flag} is not an absolute http(s) URL: {text:?}")));
    }
    Ok(text.to_owned())
}

/// Why the API key's parameter could not be read, in one line with what to do.
fn ssm_failure(name: &str, error: &str) -> Failure {
    let has = |words: &[&str]| words.iter().any(|w| error.contains(w));
    Failure::from(if has(&["ParameterNotFound"]) {
        format!(
            "SSM parameter {name} does not exist in this region: put the API key there (`aws ssm put-parameter --type SecureString`, see the README)"
        )
    } else if has(&["loading credentials", "no credentials", "NoCredentials", "CredentialsNotLoaded"]) {
        format!("reading SSM parameter {name}: no AWS credentials found. Set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    } else if has(&["AccessDenied", "not authorized to perform"]) {
        format!("reading SSM parameter {name}: access denied. The AWS identity needs ssm:GetParameter on it and kms:Decrypt on its key")
    } else {
        format!("reading SSM parameter {name}: {}", storage::short(error))
    })
}
