//! `calltrack call`: places one call as the CRM's "Call" button does, through
//! the api function's own code (`POST /api/calls`, shared/api/src/place.rs)
//! with the tenant and user given as its token's claims would give them:
//! Twilio rings the agent, and the customer is dialled once the agent presses 1.

use crate::connect::TwilioAccess;
use crate::{Failure, storage};
use calltrack_api::place::Dialer;
use calltrack_api::{Api, ApiRequest};
use calltrack_twilio_api::Retry;
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct Args {
    /// The customer to call, E.164
    #[arg(long)]
    to: String,
    /// The tenant placing it
    #[arg(long)]
    tenant: String,
    /// The user placing it: the call is theirs
    #[arg(long)]
    user: String,
    /// One of the tenant's tracking numbers, the caller ID [default: the user's own]
    #[arg(long)]
    from: Option<String>,
    /// The agent's phone, rung first [default: the tracking number's forward-to]
    #[arg(long)]
    agent: Option<String>,
    /// The CRM contact the call is for
    #[arg(long)]
    contact: Option<String>,
    /// Do not record the conversation [default: the tracking number's setting]
    #[arg(long)]
    no_record: bool,
    /// Repeating the command with the same key places no second call
    #[arg(long)]
    idempotency_key: Option<String>,
    /// The webhooks' public URL, which Twilio calls back [default: $PUBLIC_BASE_URL]
    #[arg(long, env = "PUBLIC_BASE_URL")]
    public_base_url: Option<String>,
    /// Print the call as JSON
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    twilio: TwilioAccess,
    #[command(flatten)]
    storage: storage::Storage,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    let settings = calltrack_service::Settings { public_base_url: args.public_base_url.clone(), ..args.storage.settings()? };
    let claims = [(settings.claims.tenant.clone(), args.tenant.clone()), (settings.claims.user.clone(), args.user.clone())];
    let dialer = Dialer { twilio: args.twilio.api().await?, retry: Retry::default() };
    let api = Api::new(args.storage.store().await?, settings).with_dialer(dialer);
    let mut body = json!({ "to": args.to });
    let optional = [("trackingNumber", &args.from), ("agentPhone", &args.agent), ("contactId", &args.contact)];
    for (name, value) in optional {
        if let Some(value) = value {
            body[name] = json!(value);
        }
    }
    if args.no_record {
        body["record"] = json!(false);
    }
    let request = ApiRequest {
        method: "POST".into(),
        path: "/api/calls".into(),
        body: body.to_string().into_bytes(),
        claims: Some(claims.into_iter().collect()),
        idempotency_key: args.idempotency_key,
        ..ApiRequest::default()
    };
    let answer = api.handle(&request).await;
    let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body.clone()));
    if !(200..300).contains(&answer.status) {
        let code = body["twilioCode"].as_u64().map_or(String::new(), |code| format!(" (Twilio error {code})"));
        return Err(Failure::from(format!("{}: {}{code}", answer.status, body["detail"].as_str().unwrap_or(&answer.body))));
    }
    if args.json {
        println!("{body}");
    } else {
        println!(
            "placed {} from {} to {} for {}; Twilio rings the agent first",
            body["callSid"].as_str().unwrap_or_default(),
            body["trackingNumber"].as_str().unwrap_or_default(),
            body["toNumber"].as_str().unwrap_or_default(),
            body["userId"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}
