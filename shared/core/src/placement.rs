//! A call placed through our API, the CRM's "Call" button: Twilio rings the
//! agent first, from one of the tenant's tracking numbers, and dials the
//! customer only once the agent presses 1, so that the agent's voicemail never
//! talks to the customer.

use crate::crm::CrmLinks;
use crate::tracking_number::TrackingNumber;
use calltrack_twilio::Params;
use calltrack_twilio::fields::PhoneNumber;
use std::collections::BTreeMap;

/// [`Placement::connect_query`], for a call known by its parts.
pub fn connect_query(customer: &PhoneNumber, record: bool) -> String {
    format!("{}&record={record}", customer_pair(customer))
}

/// [`Placement::status_query`], for a call known by its parts.
pub fn status_query(customer: &PhoneNumber, crm: &CrmLinks) -> String {
    let links = crm.to_query();
    let customer = customer_pair(customer);
    if links.is_empty() { customer } else { format!("{customer}&{links}") }
}

fn customer_pair(customer: &PhoneNumber) -> String {
    format!("customer={}", crate::crm::encode(customer.as_str()))
}

/// What to place, decided and checked: everything the call needs to be stored
/// at once and to be completed by its callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The tenant's tracking number: the caller ID both parties see, and the
    /// call's lead source and owner's tenant.
    pub number: TrackingNumber,
    /// Whose call it is: the user who asked.
    pub user_id: String,
    /// Rung first: the agent's phone.
    pub agent: PhoneNumber,
    /// Dialled once the agent presses 1.
    pub customer: PhoneNumber,
    /// Whether the conversation is recorded.
    pub record: bool,
    /// `contactId`, `dealId`, `jobId` and `crm_*`, as the call keeps them.
    pub crm: BTreeMap<String, String>,
}

impl Placement {
    /// The query of the connect URL Twilio asks when the agent answers: whom
    /// to dial, and whether to record.
    pub fn connect_query(&self) -> String {
        connect_query(&self.customer, self.record)
    }

    /// The query of the status URL of the leg that rings the agent: whom the
    /// call is for, whose it is and what it links to.
    pub fn status_query(&self) -> String {
        status_query(&self.customer, &CrmLinks { user_id: Some(self.user_id.clone()), links: self.crm.clone() })
    }

    /// What the placed call's event keeps of it, named as Twilio names the
    /// legs' parties: `From` (the tracking number), `To` (the customer),
    /// `Agent`, `Record`, `UserId`, `TenantId`, then the CRM links.
    pub fn params(&self) -> Params {
        let record = if self.record { "true" } else { "false" };
        let mut params: Params = [
            ("From", self.number.phone_number.as_str()),
            ("To", self.customer.as_str()),
            ("Agent", self.agent.as_str()),
            ("Record", record),
            ("UserId", self.user_id.as_str()),
            ("TenantId", self.number.tenant_id.as_str()),
        ]
        .into_iter()
        .collect();
        for (name, value) in &self.crm {
            params.push(name, value);
        }
        params
    }
}
