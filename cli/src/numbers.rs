//! `calltrack numbers add|list|connect|remove`: the tracking numbers and their
//! owners (`connect` is its own file).

use crate::{Failure, connect, storage};
use calltrack_core::ports::ManageNumbers;
use calltrack_core::qualification::DEFAULT_MIN_TALK_SECONDS;
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::TenantId;
use calltrack_twilio::fields::{AccountSid, Field, PhoneNumber};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Adds a tracking number, or replaces its configuration
    Add(AddArgs),
    /// Lists the tracking numbers
    List {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: storage::Storage,
    },
    /// Points a Twilio number at the stack (voice URL, status callback) through Twilio's REST API
    #[command(long_about = "Points a Twilio number at the stack through Twilio's REST API: its voice URL \
(the answer route) and status callback (the status route), both POST and ending with the connection \
overrides #rc=3&rp=5xx,ct,rt, and optionally its fallback URL. The number must be a tracking number \
already (`numbers add`); it is looked up in the Twilio account it is bound to (--account), else the API \
key's own. Prints each field as it is and as it becomes; --dry-run changes nothing.")]
    Connect(connect::Args),
    /// Removes a tracking number (its calls stay)
    Remove {
        /// The number, E.164 (+18005551212)
        number: String,
        #[command(flatten)]
        storage: storage::Storage,
    },
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The tracking number, E.164 (+18005551212)
    number: String,
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    user: String,
    /// The Twilio account or subaccount the number is in (AC + 32 hex digits):
    /// only calls whose callbacks carry this AccountSid are forwarded and get
    /// the number's owner. Without it the number is bound to no account
    #[arg(long)]
    account: Option<String>,
    /// The business's number calls are forwarded to, E.164
    #[arg(long)]
    forward_to: String,
    /// The lead source, e.g. "Google Ads"
    #[arg(long)]
    source: Option<String>,
    /// Record forwarded calls (the default)
    #[arg(long, overrides_with = "no_record")]
    record: bool,
    /// Do not record forwarded calls
    #[arg(long)]
    no_record: bool,
    /// Take a voicemail when the business does not answer (the default)
    #[arg(long, overrides_with = "no_voicemail")]
    voicemail: bool,
    /// Hang up when the business does not answer
    #[arg(long)]
    no_voicemail: bool,
    /// Seconds of conversation that make a qualified lead [default: 30]
    #[arg(long)]
    min_seconds: Option<u32>,
    /// Read to the business before it is connected
    #[arg(long)]
    whisper: Option<String>,
    /// Said to the caller before the call is forwarded, where both parties must
    /// consent to a recording, e.g. "This call may be recorded."; said only when
    /// the call is recorded
    #[arg(long)]
    disclosure: Option<String>,
    /// Screen forwarded calls: after the whisper the business presses 1 to take
    /// the call, so that its voicemail never counts as a conversation
    #[arg(long)]
    screen: bool,
    /// Count calls placed from the number (calltrack call, POST /api/calls) as
    /// leads when they qualify; otherwise their talk time is kept but they are no lead
    #[arg(long)]
    qualify_outbound: bool,
    #[command(flatten)]
    storage: storage::Storage,
}

pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Add(args) => {
            let number = TrackingNumber {
                phone_number: PhoneNumber::e164("number", &args.number)?,
                tenant_id: TenantId::parse("--tenant", &args.tenant)?.to_string(),
                user_id: non_empty("--user", args.user)?,
                account_sid: args.account.as_deref().map(|sid| AccountSid::parse("--account", sid)).transpose()?,
                lead_source: args.source,
                forward_to: PhoneNumber::e164("--forward-to", &args.forward_to)?,
                record: !args.no_record,
                voicemail: !args.no_voicemail,
                whisper: args.whisper,
                disclosure: args.disclosure.map(|text| non_empty("--disclosure", text)).transpose()?,
                screen: args.screen,
                qualify_outbound: args.qualify_outbound,
                min_talk_seconds: args.min_seconds,
                active: true,
            };
            if number.disclosure.is_some() && !number.record {
                eprintln!("note: --disclosure is said only on recorded calls, and this number is not recorded (--no-record)");
            }
            args.storage.store().await?.put_tracking_number(&number).await.map_err(|e| args.storage.failure(e))?;
            let account = number.account_sid.map_or(String::new(), |sid| format!(" in account {sid}"));
            println!(
                "added {}{account} for tenant {} (user {}), forwarded to {}",
                number.phone_number, number.tenant_id, number.user_id, number.forward_to
            );
            Ok(())
        }
        Command::Connect(args) => connect::run(args).await,
        Command::List { json, storage } => {
            let numbers = storage.store().await?.tracking_numbers().await.map_err(|e| storage.failure(e))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&numbers).expect("numbers serialise"));
                return Ok(());
            }
            println!(
                "{:<16} {:<14} {:<12} {:<16} {:<16} {:<6} {:<9} {:>4}  ACCOUNT",
                "NUMBER", "TENANT", "USER", "SOURCE", "FORWARD TO", "RECORD", "VOICEMAIL", "MIN"
            );
            for n in numbers {
                let yes_no = |b: bool| if b { "yes" } else { "no" };
                println!(
                    "{:<16} {:<14} {:<12} {:<16} {:<16} {:<6} {:<9} {:>4}  {}",
                    n.phone_number.as_str(),
                    n.tenant_id,
                    n.user_id,
                    n.lead_source.as_deref().unwrap_or("-"),
                    n.forward_to.as_str(),
                    yes_no(n.record),
                    yes_no(n.voicemail),
                    n.min_talk_seconds.unwrap_or(DEFAULT_MIN_TALK_SECONDS),
                    n.account_sid.as_ref().map_or("(any)", |sid| sid.as_str())
                );
            }
            Ok(())
        }
        Command::Remove { number, storage } => {
            let number = PhoneNumber::e164("number", &number)?;
            match storage.store().await?.remove_tracking_number(&number).await.map_err(|e| storage.failure(e))? {
                true => println!("removed {number}"),
                false => return Err(Failure::from(format!("{number} is not a tracking number"))),
            }
            Ok(())
        }
    }
}

fn non_empty(flag: &'static str, value: String) -> Result<String, Failure> {
    if value.trim().is_empty() { Err(Failure::from(format!("{flag} must not be empty"))) } else { Ok(value) }
}
