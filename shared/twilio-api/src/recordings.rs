//! A call's recording: its audio, downloaded as it arrives so it can be copied
//! to our own bucket without being held whole, then deleted from Twilio, which
//! otherwise keeps it (and bills for it) until told not to.

use crate::{ApiError, TwilioApi, error};
use bytes::Bytes;
use calltrack_twilio::fields::{AccountSid, RecordingSid};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

/// A recording's audio as Twilio sends it.
pub struct RecordingAudio {
    /// As Twilio labels it: `audio/mpeg` for the MP3 asked for.
    pub content_type: String,
    /// Its size when Twilio says it up front.
    pub content_length: Option<u64>,
    /// The audio, chunk by chunk as it arrives. A failure is
    /// [`ApiError::NoAnswer`] (the connection dropped, or nothing came for the
    /// client's timeout) and ends the audio: what came before it is not the
    /// whole recording.
    pub body: BoxStream<'static, Result<Bytes, ApiError>>,
}

impl std::fmt::Debug for RecordingAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingAudio")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl TwilioApi {
    /// The audio of recording `sid` in `account`, as MP3, streamed as it
    /// arrives. The URL is built from our configured base URL, never taken
    /// from a callback's `RecordingUrl`, so the API key only goes to Twilio;
    /// Twilio may redirect the download to its media storage, and the
    /// redirect is followed without the key (reqwest drops `Authorization`
    /// when the host changes).
    ///
    /// The answer's headers must come within the client's timeout
    /// ([`TwilioApi::with_timeout`], 10 s by default), and so must each chunk
    /// of the audio after the one before: a download has no total deadline,
    /// which would cut long recordings short, only one for stalling. (Timed
    /// here rather than with reqwest's `read_timeout`, which would be the
    /// whole client's.)
    pub async fn fetch_recording(&self, account: &AccountSid, sid: &RecordingSid) -> Result<RecordingAudio, ApiError> {
        let url = self.url(&format!("/Accounts/{account}/Recordings/{sid}.mp3"));
        let request = self.with_key(self.http.get(url));
        let response = self.within_timeout(request.send()).await?.map_err(|e| ApiError::from_reqwest(&self.base_url, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = error::retry_after(response.headers());
            let body = self.within_timeout(response.bytes()).await?.map_err(|e| ApiError::from_reqwest(&self.base_url, &e))?;
            return Err(ApiError::from_answer(status, &body).with_retry_after(retry_after));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            // The `.mp3` in the URL chose the format; a missing label does not change it.
            .unwrap_or("audio/mpeg")
            .to_owned();
        let content_length = response.content_length();
        let (base_url, stall) = (self.base_url.clone(), self.timeout);
        let chunks = response.bytes_stream().boxed();
        let body = futures_util::stream::unfold(Some(chunks), move |chunks| {
            let base_url = base_url.clone();
            async move {
                let mut chunks = chunks?;
                match tokio::time::timeout(stall, chunks.next()).await {
                    Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(chunks))),
                    Ok(None) => None,
                    // Nothing follows a failure: the stream ends after saying so.
                    Ok(Some(Err(e))) => Some((Err(ApiError::from_reqwest(&base_url, &e)), None)),
                    Err(_) => Some((Err(ApiError::NoAnswer(format!("the recording from {base_url} stalled for {stall:?}"))), None)),
                }
            }
        })
        .boxed();
        Ok(RecordingAudio { content_type, content_length, body })
    }

    /// Deletes recording `sid` from Twilio (`DELETE …/Recordings/{sid}.json`).
    /// A 404 counts as deleted: a delete repeated after a lost answer, or a
    /// recording someone removed in Twilio's console, is the outcome wanted.
    pub async fn delete_recording(&self, account: &AccountSid, sid: &RecordingSid) -> Result<(), ApiError> {
        let url = self.url(&format!("/Accounts/{account}/Recordings/{sid}.json"));
        match self.answer(self.http.delete(url)).await {
            Ok(_) | Err(ApiError::Twilio { status: 404, .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// `step` if it ends within the client's timeout; [`ApiError::NoAnswer`]
    /// if not, as a request's own timeout would say.
    async fn within_timeout<T>(&self, step: impl Future<Output = T>) -> Result<T, ApiError> {
        tokio::time::timeout(self.timeout, step).await.map_err(|_| ApiError::NoAnswer(format!("no answer from {} in time", self.base_url)))
    }
}
