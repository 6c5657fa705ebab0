//! `POST /api/twilio/voice/status`: call status callbacks for the parent leg
//! and `<Dial>`'s child legs, every status. `204` once stored; `503` when
//! storage fails, so that Twilio's redelivery repairs it.

use super::stored_or_unavailable;
use crate::app::{App, Handled};
use crate::call::CallUpdate;
use crate::crm::CrmLinks;
use crate::error::Error;
use crate::store::{Recorded, Scope, Store};
use crate::voice::CallWebhook;
use crate::webhook::Webhook;

pub async fn handle<S: Store>(app: &App<S>, hook: Webhook, now: i64) -> Result<Handled, Error> {
    let crm = CrmLinks::from_url(&hook.url)?;
    let call = CallWebhook::parse(hook.params)?;
    let mut recorded = app.store.record(&CallUpdate::status(&call, now).with_crm(&crm)).await;
    if let Ok(done) = &recorded
        && call.parent_call_sid.is_none()
        && let Err(err) = claim_owner(app, &call, done, now).await
    {
        recorded = Err(err);
    }
    Ok(stored_or_unavailable(recorded, call.call_sid))
}

/// When storage was down as a call came in, the answer route forwarded it but
/// could not store its owner. The parent leg's status callbacks carry the
/// tracking number, so the owner is filled in from them: a read of the number
/// and one more write, for calls stored without an owner (and a read alone for
/// calls to unknown numbers). A redelivered callback checks again, so a failure
/// here is repaired like any other: 503, and Twilio delivers the callback again.
/// The callback's own outcome (new, duplicate, newly qualified) is what is
/// logged and counted.
async fn claim_owner<S: Store>(app: &App<S>, hook: &CallWebhook, recorded: &Recorded, now: i64) -> Result<(), Error> {
    let Some(number) = &hook.tracking_number else { return Ok(()) };
    let unowned = match recorded {
        Recorded::Applied { call, .. } => !call.attributed,
        Recorded::Duplicate => app.store.call(&Scope::Operator, &hook.call_sid).await?.is_some_and(|detail| !detail.call.attributed),
    };
    if unowned && let Some(owner) = app.store.tracking_number(number).await? {
        app.store.record(&CallUpdate::owner(hook.call_sid, &owner, now)).await?;
    }
    Ok(())
}
