//! `GET /api/calls/{callSid}/recording`: a short-lived link that plays the
//! call's recording from our own bucket, for the call's own tenant only. The
//! link is presigned: whoever holds it may play that one recording until it
//! expires, and nothing else, so a CRM can hand it to a browser's `<audio>`.

use crate::principal::Principal;
use crate::problem::Problem;
use calltrack_core::ports::ReadCalls;
use calltrack_core::view::Scope;
use calltrack_s3::RecordingBucket;
use calltrack_twilio::fields::{CallSid, Field};
use serde::Serialize;
use std::time::Duration;

/// A link that plays a recording until it expires.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingLink {
    /// A presigned GET of the audio (MP3): no token needed, until `expiresAt`.
    pub url: String,
    /// RFC 3339.
    pub expires_at: String,
    pub content_type: &'static str,
    pub duration_seconds: Option<u32>,
}

pub async fn link<S: ReadCalls>(
    store: &S,
    bucket: Option<&RecordingBucket>,
    lasts: Duration,
    principal: &Principal,
    call_sid: &str,
) -> Result<RecordingLink, Problem> {
    let sid = CallSid::parse("callSid", call_sid)?;
    let bucket =
        bucket.ok_or_else(|| Problem::not_configured("recordings are not kept in our own bucket (the stack's RecordingBucket is off)"))?;
    let scope = Scope::Tenant(principal.tenant.clone());
    let call = store.call(&scope, &sid).await?.ok_or_else(|| Problem::not_found(format!("no call {sid}")))?;
    let recording = call.summary.recording.ok_or_else(|| Problem::not_found(format!("call {sid} has no recording")))?;
    let key = recording.bucket_key.ok_or_else(|| {
        Problem::not_found(format!("the recording of call {sid} is not in our bucket yet: it is copied once Twilio has finished it"))
    })?;
    let url = bucket.presign_get(&key, lasts).await?;
    let expires_at = time::OffsetDateTime::now_utc() + lasts;
    let expires_at = expires_at.format(&time::format_description::well_known::Rfc3339).expect("a time within RFC 3339's years");
    Ok(RecordingLink { url, expires_at, content_type: "audio/mpeg", duration_seconds: recording.duration_seconds })
}
