//! `calltrack smoke`: the post-deploy smoke test. It checks that `--to` is a
//! tracking number, plays one short signed call to it (a voicemail, which is
//! never a qualified lead), reads the call back from storage and checks it,
//! then deletes the call and its events, so a smoke test of production leaves
//! nothing behind and counts no lead.

use crate::scenario::{Call, Scenario, Sids};
use crate::simulate::{self, Target};
use crate::{Failure, calls};
use calltrack_core::ports::LookUpNumbers;
use calltrack_core::view::TenantId;
use calltrack_twilio::fields::{CallSid, Field, PhoneNumber};
use std::hash::RandomState;
use std::time::{SystemTime, UNIX_EPOCH};

/// Redeliveries of a webhook that got a 5xx or no answer, as the `#rc=3` on our URLs asks of Twilio.
const RETRIES: u32 = 3;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Keep reading the call back for up to this many seconds while it is
    /// incomplete: a callback that met a storage outage is applied from the queue
    #[arg(long, default_value_t = 30)]
    settle_seconds: u64,
    /// Leave the call in storage to look at, instead of deleting it
    #[arg(long)]
    keep: bool,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    let storage = args.target.storage.clone();
    let to = PhoneNumber::e164("--to", &args.target.to)?;
    let store = storage.store().await?;
    let tables = storage.tables()?;
    let Some(number) = store.tracking_number(&to).await.map_err(|e| storage.failure(e))? else {
        return Err(Failure::from(format!(
            "{to} is not a tracking number in table {}: add it with `calltrack numbers add`, or point the storage options at this stack's tables (TRACKING_NUMBERS_TABLE)",
            tables.numbers
        )));
    };
    if !number.active {
        return Err(Failure::from(format!("{to} is an inactive tracking number: its calls are not forwarded")));
    }
    let tenant = TenantId::parse("tenant", &number.tenant_id)?;
    println!("{to}: tenant {tenant}, user {}, forwarded to {}\n", number.user_id, number.forward_to);

    let (random, seed) = (RandomState::new(), SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    // The number's own account, when it is bound to one: it takes no other's calls.
    let mut target = args.target;
    if target.account.is_none() {
        target.account = number.account_sid.map(|sid| sid.to_string());
    }
    let call = Call::new(Scenario::Voicemail, Sids::new(&random, seed, 0), target.account(), &target.from, &target.to);
    let call_sid = CallSid::parse("CallSid", &call.expected.call_sid)?;
    let played =
        simulate::play(simulate::Args::one_call(target, Scenario::Voicemail, RETRIES, args.settle_seconds), vec![call], &random, seed)
            .await;

    let keep = args.keep;
    if keep {
        println!("kept {call_sid}: `calltrack calls show {call_sid}`; `calltrack calls delete {call_sid} --tenant {tenant}` deletes it");
    } else {
        match calls::delete(&store, &storage, &tenant, &call_sid).await? {
            Some(events) => println!("deleted {call_sid} and its {events} events"),
            None => println!("nothing to delete: {call_sid} was not stored"),
        }
    }
    if played.is_err() && !keep {
        println!(
            "(a callback of it still queued for replay can store part of it again: `calltrack calls delete {call_sid} --tenant {tenant}` later)"
        );
    }
    played?;
    println!("smoke test passed");
    Ok(())
}
