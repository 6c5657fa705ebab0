//! `POST /api/twilio/voice/status`: call status callbacks for the parent leg
//! and `<Dial>`'s child legs, every status. `204` once stored, or once queued
//! when storage fails.
//!
//! A call placed through our API (`POST /api/calls`) gives Twilio this URL with
//! `?customer=…&userId=…` and its CRM links: its first leg rings the agent, so
//! its `To` is the agent, and the URL says whom the call is for and whose it
//! is. Every callback then carries the whole call, whatever came first.

use super::{stored_or_deferred, within_deadline};
use crate::context::Context;
use crate::reply::Handled;
use crate::route::Route;
use calltrack_core::call::CallUpdate;
use calltrack_core::crm::CrmLinks;
use calltrack_core::ports::{LookUpNumbers, ReadCalls, RecordCalls, Recorded, StorageError};
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio::params::{Params, query_of};
use calltrack_twilio::voice::CallWebhook;
use calltrack_twilio::{Error, Webhook};
use lambda_http::tracing;

pub async fn handle<S: RecordCalls + LookUpNumbers + ReadCalls>(cx: &Context<'_, S>, hook: Webhook) -> Result<Handled, Error> {
    let crm = CrmLinks::from_url(&hook.url)?;
    let customer = customer_of(&hook.url)?;
    let call = CallWebhook::parse(hook.params)?;
    let recorded = within_deadline(cx, store(cx, &call, &crm, customer.as_ref())).await;
    let call_sid = call.call_sid;
    let callback = || cx.deferred(Route::Status, &hook.url, &call.params);
    Ok(stored_or_deferred(cx, recorded, call_sid, callback).await)
}

/// The route's writes, also what [`crate::replay`] does with a queued callback:
/// the status, and the call's owner when it had none.
pub(crate) async fn store<S: RecordCalls + LookUpNumbers + ReadCalls>(
    cx: &Context<'_, S>,
    call: &CallWebhook,
    crm: &CrmLinks,
    customer: Option<&PhoneNumber>,
) -> Result<Recorded, StorageError> {
    let mut update = CallUpdate::status(call, cx.now).with_crm(crm);
    if let Some(customer) = customer.filter(|_| call.parent_call_sid.is_none()) {
        update = update.for_customer(customer);
    }
    let recorded = cx.store.record(&update).await?;
    if call.parent_call_sid.is_none() {
        claim_owner(cx, call, crm, &recorded).await?;
    }
    Ok(recorded)
}

/// The `customer` of a placed call's status URL, when it has one; a value that
/// is not E.164 is refused, naming it.
pub(crate) fn customer_of(url: &str) -> Result<Option<PhoneNumber>, Error> {
    let query = Params::from_form(query_of(url).as_bytes())?;
    query.get("customer").map(|customer| PhoneNumber::e164("customer", customer)).transpose()
}

/// When storage was down as a call came in, the answer route forwarded it but
/// could not store its owner. The parent leg's status callbacks carry the
/// tracking number, so the owner is filled in from them: a read of the number
/// and one more write, for calls stored without an owner (and a read alone for
/// calls to unknown numbers). A redelivered callback checks again, so a failure
/// here is repaired like any other: the callback is queued and applied again.
/// It reads whether its call has an owner only when its rejected write did not
/// show one (a call stored without one, or a store that had not seen it). A number bound to
/// another account than the callback's gives no owner, and a callback refused
/// for its account claims nothing. The URL's `userId` (a placed call's) names
/// the user within the number's tenant.
/// The callback's own outcome (new, duplicate, newly qualified) is what is
/// logged and counted.
async fn claim_owner<S: RecordCalls + LookUpNumbers + ReadCalls>(
    cx: &Context<'_, S>,
    hook: &CallWebhook,
    crm: &CrmLinks,
    recorded: &Recorded,
) -> Result<(), StorageError> {
    let Some(number) = &hook.tracking_number else { return Ok(()) };
    let unowned = match recorded {
        Recorded::Applied(applied) => !applied.call.attributed,
        Recorded::Duplicate { owned: true } => false,
        Recorded::Duplicate { owned: false } => cx.store.is_attributed(&hook.call_sid).await? == Some(false),
        Recorded::ForeignAccount(_) => false,
    };
    let Some(owner) = (if unowned { cx.store.tracking_number(number).await? } else { None }) else { return Ok(()) };
    if !owner.serves(Some(&hook.account_sid)) {
        tracing::warn!(
            call_sid = hook.call_sid.as_str(),
            number_account = owner.account_sid.as_ref().map(|a| a.as_str()),
            call_account = hook.account_sid.as_str(),
            "call to a number of another account: no owner claimed"
        );
        return Ok(());
    }
    // The update carries the number's account: storage refuses it on another's call.
    if let Recorded::ForeignAccount(foreign) = cx.store.record(&CallUpdate::owner(hook.call_sid, &owner, cx.now).with_crm(crm)).await? {
        super::warn_foreign(&foreign);
    }
    Ok(())
}
