//! A finished recording to copy from Twilio into our own bucket, and where
//! the bucket keeps it. Which change sets a copy off is
//! [`crate::outbox::recording_to_copy`]'s; the copy noted on its call is
//! [`crate::call::CallUpdate::recording_copied`].

use calltrack_twilio::Params;
use calltrack_twilio::fields::{AccountSid, CallSid, Field, RecordingSid};

/// A finished recording to copy from Twilio into our own bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingCopy {
    pub call_sid: CallSid,
    /// The account the recording is in: the call's (a subaccount's, maybe).
    pub account_sid: AccountSid,
    pub recording_sid: RecordingSid,
    /// The call's tenant when it was copied: the first part of its key.
    pub tenant_id: Option<String>,
}

impl RecordingCopy {
    /// Where our bucket keeps it: by tenant, then call, so that one tenant's
    /// or one call's audio can be listed, exported or erased together. A
    /// tenant id has no `/`, so no tenant's keys reach into another's.
    pub fn key(&self) -> String {
        format!("{}{}.mp3", recordings_of(self.tenant_id.as_deref(), self.call_sid.as_str()), self.recording_sid)
    }

    /// As kept in the copy's event (and sent through the queue).
    pub fn params(&self) -> Params {
        let mut params = Params::default();
        params.push("CallSid", self.call_sid.as_str());
        params.push("AccountSid", self.account_sid.as_str());
        params.push("RecordingSid", self.recording_sid.as_str());
        if let Some(tenant) = &self.tenant_id {
            params.push("TenantId", tenant);
        }
        params
    }

    pub fn from_params(params: &Params) -> Option<Self> {
        let field = |name: &str| params.get(name);
        Some(RecordingCopy {
            call_sid: CallSid::parse("CallSid", field("CallSid")?).ok()?,
            account_sid: AccountSid::parse("AccountSid", field("AccountSid")?).ok()?,
            recording_sid: RecordingSid::parse("RecordingSid", field("RecordingSid")?).ok()?,
            tenant_id: field("TenantId").map(str::to_owned),
        })
    }
}

/// Where a call's recordings are kept in our bucket (a prefix of each one's
/// [`RecordingCopy::key`]): what erasing the call deletes there.
pub fn recordings_of(tenant: Option<&str>, call_sid: &str) -> String {
    match tenant {
        Some(tenant) => format!("tenants/{tenant}/{call_sid}/"),
        None => format!("unattributed/{call_sid}/"),
    }
}
