//! Call recordings in our own S3 bucket, copied from Twilio, whose links need
//! the account's credentials, then deleted there. Ours stay private (no public
//! access, encrypted at rest) and are handed out as short-lived presigned
//! links ([`RecordingBucket::presign_get`]).
//!
//! A recording is copied while it downloads ([`RecordingBucket::put_stream`]):
//! a Lambda's memory holds about one part of it whatever its length.
//!
//! The client is an ordinary `aws_sdk_s3::Client` from `aws_config`. Its
//! default checksums (CRC32 "when supported") are fine for S3 and for moto, so
//! nothing needs configuring; `testing::client` shows the local settings.

#[cfg(feature = "testing")]
pub mod testing;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart,
    ExpirationStatus, LifecycleRule, LifecycleRuleFilter, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use bytes::{Bytes, BytesMut};
use calltrack_core::ports::StorageError;
use futures_util::{Stream, StreamExt};
use std::time::Duration;

/// The size of each part of a multipart upload, and the most a recording
/// stored with one `PutObject` may weigh. S3 wants parts of at least 5 MiB (the
/// last excepted) and at most 10,000 of them: 8 MiB parts take up to 78 GiB,
/// far beyond a day of MP3, in few requests.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// The bucket recordings are kept in.
#[derive(Debug, Clone)]
pub struct RecordingBucket {
    client: Client,
    bucket: String,
}

/// A multipart upload under way: what completing it needs.
struct Multipart {
    upload_id: String,
    parts: Vec<CompletedPart>,
}

impl RecordingBucket {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        RecordingBucket { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Stores what `body` yields under `key`, never holding it whole: one
    /// `PutObject` when it all fits in one part ([`PART_SIZE`]), else a
    /// multipart upload of `PART_SIZE` parts, so memory stays about one part
    /// whatever the recording's length. Returns the bytes stored.
    ///
    /// If the body or a request fails, the multipart upload is aborted, leaving
    /// no object and no parts to pay for. A future dropped mid-upload (a Lambda
    /// timing out) cannot abort it: the bucket's lifecycle rule
    /// (`AbortIncompleteMultipartUpload`, see [`create_local`]) removes it.
    pub async fn put_stream<S, E>(&self, key: &str, content_type: &str, mut body: S) -> Result<u64, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let mut buffer = BytesMut::new();
        let mut multipart: Option<Multipart> = None;
        let mut stored = 0u64;
        let outcome = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    StorageError(format!(
                        "S3: the recording for s3://{}/{key} failed after {} bytes: {e}",
                        self.bucket,
                        stored + buffer.len() as u64
                    ))
                })?;
                buffer.extend_from_slice(&chunk);
                // Strictly more than a part: a body of exactly one part is still one PutObject.
                while buffer.len() > PART_SIZE {
                    let part = buffer.split_to(PART_SIZE).freeze();
                    let upload = match &mut multipart {
                        Some(upload) => upload,
                        None => multipart.insert(self.start_multipart(key, content_type).await?),
                    };
                    stored += self.upload_part(key, upload, part).await?;
                }
            }
            Ok(())
        }
        .await;
        match (outcome, multipart) {
            (Err(err), None) => Err(err),
            (Err(err), Some(upload)) => Err(self.abort(key, &upload, err).await),
            (Ok(()), None) => {
                let size = buffer.len() as u64;
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .content_type(content_type)
                    .body(ByteStream::from(buffer.freeze()))
                    .send()
                    .await
                    .map_err(|e| failed("put", &self.bucket, key, e))?;
                Ok(size)
            }
            (Ok(()), Some(mut upload)) => {
                // What is left is 1 to PART_SIZE bytes: the last part, which may be small.
                let finished = async {
                    let last = self.upload_part(key, &mut upload, buffer.freeze()).await?;
                    self.complete(key, &upload).await?;
                    Ok(stored + last)
                }
                .await;
                match finished {
                    Ok(size) => Ok(size),
                    Err(err) => Err(self.abort(key, &upload, err).await),
                }
            }
        }
    }

    /// CRC32 for every part, named at the start as S3 requires: the SDK checks
    /// each part by default anyway, and S3 refuses part checksums that the
    /// upload was not created with, or that completing it does not repeat.
    async fn start_multipart(&self, key: &str, content_type: &str) -> Result<Multipart, StorageError> {
        let output = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| failed("start a multipart upload to", &self.bucket, key, e))?;
        let upload_id = output
            .upload_id
            .ok_or_else(|| StorageError(format!("S3: no upload ID for a multipart upload to s3://{}/{key}", self.bucket)))?;
        Ok(Multipart { upload_id, parts: Vec::new() })
    }

    async fn upload_part(&self, key: &str, upload: &mut Multipart, part: Bytes) -> Result<u64, StorageError> {
        let number = upload.parts.len() as i32 + 1;
        let size = part.len() as u64;
        let output = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload.upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(|e| failed(&format!("upload part {number} to"), &self.bucket, key, e))?;
        upload
            .parts
            .push(CompletedPart::builder().part_number(number).set_e_tag(output.e_tag).set_checksum_crc32(output.checksum_crc32).build());
        Ok(size)
    }

    async fn complete(&self, key: &str, upload: &Multipart) -> Result<(), StorageError> {
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload.upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(upload.parts.clone())).build())
            .send()
            .await
            .map_err(|e| failed("complete the multipart upload to", &self.bucket, key, e))?;
        Ok(())
    }

    /// Aborts `upload` after `err`, and returns `err`, saying so when aborting
    /// failed too (the lifecycle rule will remove the parts later).
    async fn abort(&self, key: &str, upload: &Multipart, err: StorageError) -> StorageError {
        let aborted = self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(&upload.upload_id).send().await;
        match aborted {
            Ok(_) => err,
            Err(e) => StorageError(format!("{}; and {}", err.0, failed("abort the multipart upload to", &self.bucket, key, e).0)),
        }
    }

    /// Whether `key` is stored already. A missing key is a 404 only when the
    /// caller may list the bucket (`s3:ListBucket`); without it S3 answers 403,
    /// which is an error here.
    pub async fn contains(&self, key: &str) -> Result<bool, StorageError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(e) => Err(failed("look for", &self.bucket, key, e)),
        }
    }

    /// A GET link to `key`, valid for `expires_in` (at most 7 days, SigV4's
    /// limit), that needs no credentials: what a dashboard plays. Signing is
    /// local, so it does not check that `key` exists; a link to a missing key
    /// answers 404. A link signed with a Lambda role's temporary credentials
    /// stops working when they expire, whichever comes first.
    pub async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(|e| {
            StorageError(format!("S3: a link to s3://{}/{key} for {expires_in:?}: {}", self.bucket, DisplayErrorContext(e)))
        })?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| failed("presign a GET of", &self.bucket, key, e))?;
        Ok(request.uri().to_owned())
    }

    /// Deletes every object under `prefix` (a call's recordings); says how many went.
    pub async fn delete_under(&self, prefix: &str) -> Result<usize, StorageError> {
        let mut deleted = 0;
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| StorageError(format!("S3: list s3://{}/{prefix}: {}", self.bucket, DisplayErrorContext(e))))?;
            for object in page.contents.unwrap_or_default() {
                if let Some(key) = object.key {
                    self.delete(&key).await?;
                    deleted += 1;
                }
            }
        }
        Ok(deleted)
    }

    /// Deletes `key`; a missing key is fine (S3 answers 204 either way).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| failed("delete", &self.bucket, key, e))?;
        Ok(())
    }
}

/// How long an abandoned multipart upload's parts are kept before the bucket's
/// lifecycle rule aborts it: a day, far longer than any upload takes.
pub const ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS: i32 = 1;

/// Creates `bucket` on a local S3 (moto's server) as template.yaml deploys
/// it: no public access, encrypted with S3's own keys (SSE-S3, AES256), and
/// abandoned multipart uploads aborted after [`ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS`].
/// Safe to run again: creating a bucket one owns already is not an error.
pub async fn create_local(client: &Client, bucket: &str) -> Result<RecordingBucket, StorageError> {
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(failed_bucket("create", bucket, e)),
    }
    let block_all = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(block_all)
        .send()
        .await
        .map_err(|e| failed_bucket("block public access to", bucket, e))?;
    let sse_s3 = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| StorageError(format!("S3: encryption for {bucket}: {e}")))?;
    let encryption = ServerSideEncryptionConfiguration::builder()
        .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse_s3).build())
        .build()
        .map_err(|e| StorageError(format!("S3: encryption for {bucket}: {e}")))?;
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(encryption)
        .send()
        .await
        .map_err(|e| failed_bucket("set the encryption of", bucket, e))?;
    let abort_abandoned = LifecycleRule::builder()
        .id("abort-incomplete-uploads")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder().days_after_initiation(ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS).build(),
        )
        .build()
        .map_err(|e| StorageError(format!("S3: lifecycle for {bucket}: {e}")))?;
    let lifecycle = BucketLifecycleConfiguration::builder()
        .rules(abort_abandoned)
        .build()
        .map_err(|e| StorageError(format!("S3: lifecycle for {bucket}: {e}")))?;
    client
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(lifecycle)
        .send()
        .await
        .map_err(|e| failed_bucket("set the lifecycle of", bucket, e))?;
    Ok(RecordingBucket::new(client.clone(), bucket))
}

fn failed(what: &str, bucket: &str, key: &str, err: impl std::error::Error) -> StorageError {
    StorageError(format!("S3: {what} s3://{bucket}/{key}: {}", DisplayErrorContext(err)))
}

fn failed_bucket(what: &str, bucket: &str, err: impl std::error::Error) -> StorageError {
    StorageError(format!("S3: {what} the bucket {bucket}: {}", DisplayErrorContext(err)))
}
