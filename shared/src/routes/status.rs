//! `POST /api/twilio/voice/status`: call status callbacks for the parent leg
//! and `<Dial>`'s child legs, every status. `204` once stored; `503` when
//! storage fails, so that Twilio's redelivery repairs it.

use super::stored_or_unavailable;
use crate::app::{App, Handled};
use crate::call::CallUpdate;
use crate::crm::CrmLinks;
use crate::error::Error;
use crate::store::Store;
use crate::voice::CallWebhook;
use crate::webhook::Webhook;

pub async fn handle<S: Store>(app: &App<S>, hook: Webhook, now: i64) -> Result<Handled, Error> {
    let crm = CrmLinks::from_url(&hook.url)?;
    let call = CallWebhook::parse(hook.params)?;
    let recorded = app.store.record(&CallUpdate::status(&call, now).with_crm(&crm)).await;
    Ok(stored_or_unavailable(recorded, call.call_sid))
}
