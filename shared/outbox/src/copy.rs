//! A finished recording copied from Twilio into our own bucket, then noted on
//! its call (which tells `call.recording` to the tenant's endpoints), then,
//! when the operator asks, deleted from Twilio. Each step is idempotent, so a
//! copy that failed part way is tried again from the queue, whole, until it
//! succeeds or reaches the dead-letter queue.

use calltrack_core::call::CallUpdate;
use calltrack_core::copy::RecordingCopy;
use calltrack_core::ports::{ReadCalls, RecordCalls, Recorded, StorageError};
use calltrack_s3::RecordingBucket;
use calltrack_twilio::Params;
use calltrack_twilio_api::{ApiError, TwilioApi};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What copies recordings: Twilio's API (the operator's API key), the bucket,
/// and whether Twilio's copy is deleted once ours is safe.
#[derive(Debug, Clone)]
pub struct Copier {
    pub twilio: TwilioApi,
    pub bucket: RecordingBucket,
    pub delete_from_twilio: bool,
}

/// Why a copy did not finish: each is tried again from the queue.
#[derive(Debug)]
pub enum CopyError {
    /// Twilio did not give the audio, or did not delete it.
    Twilio(ApiError),
    /// The bucket or the calls table failed.
    Storage(StorageError),
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::Twilio(err) => write!(f, "Twilio: {err}"),
            CopyError::Storage(err) => err.fmt(f),
        }
    }
}

/// What became of a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// The audio is in our bucket and its call knows where.
    Stored { bytes: Option<u64> },
    /// The call's account is another than the copy says: nothing noted.
    ForeignAccount,
    /// The call is gone (erased): nothing copied.
    CallGone,
}

/// Copies one recording, at `now` (ms since the epoch). Audio already in the
/// bucket (an earlier try that failed after storing it) is not fetched again.
pub async fn copy<S: RecordCalls + ReadCalls>(store: &S, copier: &Copier, job: &RecordingCopy, now: i64) -> Result<Copied, CopyError> {
    // A call erased since (`calltrack calls erase`) keeps no recording, and noting
    // the copy would store the call again.
    if store.is_attributed(&job.call_sid).await.map_err(CopyError::Storage)?.is_none() {
        return Ok(Copied::CallGone);
    }
    let key = job.key();
    let mut bytes = None;
    if !copier.bucket.contains(&key).await.map_err(CopyError::Storage)? {
        let audio = copier.twilio.fetch_recording(&job.account_sid, &job.recording_sid).await.map_err(CopyError::Twilio)?;
        bytes = Some(copier.bucket.put_stream(&key, &audio.content_type, audio.body).await.map_err(CopyError::Storage)?);
    }
    match store.record(&CallUpdate::recording_copied(job, now)).await.map_err(CopyError::Storage)? {
        Recorded::Applied(_) | Recorded::Duplicate { .. } => {}
        Recorded::ForeignAccount(_) => return Ok(Copied::ForeignAccount),
    }
    if copier.delete_from_twilio {
        copier.twilio.delete_recording(&job.account_sid, &job.recording_sid).await.map_err(CopyError::Twilio)?;
    }
    Ok(Copied::Stored { bytes })
}

/// A copy as a queue message: `{"copyRecording": {"CallSid": …, …}}`, beside
/// the deferred callbacks on the callback queue, told apart by its one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyMessage {
    pub copy_recording: BTreeMap<String, String>,
}

impl CopyMessage {
    pub fn new(job: &RecordingCopy) -> Self {
        CopyMessage { copy_recording: job.params().iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect() }
    }

    /// The copy a message asks for; none when it is no copy (a deferred callback).
    pub fn read(body: &str) -> Option<Result<RecordingCopy, String>> {
        let message: CopyMessage = serde_json::from_str(body).ok()?;
        let params: Params = message.copy_recording.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Some(
            RecordingCopy::from_params(&params)
                .ok_or_else(|| format!("a recording copy without a valid CallSid, AccountSid and RecordingSid: {body}")),
        )
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a map of strings")
    }
}
