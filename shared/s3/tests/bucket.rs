//! The recording bucket against moto's S3 server (`scripts/with-moto`, which
//! `make test` runs): streamed uploads, single and multipart, what a failed
//! upload leaves behind, and presigned links fetched as a browser would.
//!
//! moto 5 does not check a presigned link's signature or expiry (it only looks
//! for `Signature=` in the query), where S3 refuses a link that expired or was
//! changed. What S3 would check is asserted on the link itself here, and
//! `an_expired_link_is_refused` (ignored) shows the refusal against real S3.

use aws_sdk_s3::Client;
use bytes::Bytes;
use calltrack_s3::testing::{bucket, client};
use calltrack_s3::{PART_SIZE, RecordingBucket};
use futures_util::{StreamExt, stream};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MP3: &str = "audio/mpeg";
const CHUNK: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;

/// `len` bytes that differ from part to part, so parts stored out of order or twice would show.
fn audio(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ (i / PART_SIZE) as u8).collect()
}

/// `data` as a download yields it: `CHUNK`-sized pieces.
fn chunks(data: &[u8]) -> impl futures_util::Stream<Item = Result<Bytes, String>> + Send + Unpin + use<> {
    let pieces: Vec<_> = data.chunks(CHUNK).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    stream::iter(pieces)
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.expect("an answer from moto")
}

/// The value of `name` in the link's query.
fn query<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    url.split_once('?')?.1.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// SigV4's `20260314T092653Z` as seconds since 1970 (Howard Hinnant's days-from-civil).
fn unix_seconds(amz_date: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| amz_date[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15)
}

async fn pending_uploads(client: &Client, bucket: &RecordingBucket, key: &str) -> Vec<String> {
    let uploads = client.list_multipart_uploads().bucket(bucket.bucket()).prefix(key).send().await.unwrap();
    uploads.uploads().iter().filter_map(|u| u.upload_id().map(str::to_owned)).collect()
}

async fn etag(client: &Client, bucket: &RecordingBucket, key: &str) -> String {
    let head = client.head_object().bucket(bucket.bucket()).key(key).send().await.unwrap();
    head.e_tag().unwrap().trim_matches('"').to_owned()
}

#[tokio::test]
async fn a_small_recording_is_fetched_through_its_presigned_link_only() {
    let bucket = bucket().await;
    let key = "tenant-a/RE0123456789abcdef0123456789abcdef.mp3";
    let data = audio(100_000);
    assert!(!bucket.contains(key).await.unwrap());

    let stored = bucket.put_stream(key, MP3, chunks(&data)).await.unwrap();
    assert_eq!(stored, data.len() as u64);
    assert!(bucket.contains(key).await.unwrap());
    assert!(!etag(&client(), &bucket, key).await.contains('-'), "one PutObject, not a multipart upload");

    let link = bucket.presign_get(key, Duration::from_secs(300)).await.unwrap();
    let answer = get(&link).await;
    assert_eq!(answer.status(), 200, "{link}");
    assert_eq!(answer.headers()["content-type"], MP3);
    assert_eq!(answer.bytes().await.unwrap().as_ref(), data.as_slice());

    // The bucket is private: the same object without a signature is refused.
    let unsigned = link.split_once('?').unwrap().0;
    assert_eq!(get(unsigned).await.status(), 403, "{unsigned}");

    // A link to another key (here, one never stored) gives nothing of this one.
    let other = bucket.presign_get("tenant-a/RE-other.mp3", Duration::from_secs(300)).await.unwrap();
    let status = get(&other).await.status();
    assert!(status == 404 || status == 403, "{status}");
}

#[tokio::test]
async fn a_link_carries_what_s3_checks_its_key_and_expiry() {
    let bucket = bucket().await;
    let key = "tenant-a/RE0123456789abcdef0123456789abcdef.mp3";
    let link = bucket.presign_get(key, Duration::from_secs(90)).await.unwrap();
    assert!(link.split_once('?').unwrap().0.ends_with(&format!("/{}/{key}", bucket.bucket())), "{link}");
    assert_eq!(query(&link, "X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
    assert_eq!(query(&link, "X-Amz-Expires"), Some("90"));
    // Only the host is signed besides the path and query: a browser can follow it as is.
    assert_eq!(query(&link, "X-Amz-SignedHeaders"), Some("host"));
    assert!(query(&link, "X-Amz-Credential").unwrap().starts_with("local%2F"), "{link}");
    assert_eq!(query(&link, "X-Amz-Signature").map(str::len), Some(64));
    // Signed now: S3 counts the expiry from X-Amz-Date.
    let signed_at = unix_seconds(query(&link, "X-Amz-Date").unwrap());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - signed_at).abs() <= 5, "signed at {signed_at}, now {now}");

    // SigV4 allows a week at most; longer is refused before anything is signed.
    let err = bucket.presign_get(key, Duration::from_secs(8 * 24 * 3600)).await.unwrap_err();
    assert!(err.0.contains(&format!("s3://{}/{key}", bucket.bucket())), "{err}");
}

#[tokio::test]
#[ignore = "moto 5 serves an expired link (200) where S3 answers 403 \"Request has expired\": fails against moto, kept to say what S3 does"]
async fn an_expired_link_is_refused() {
    let bucket = bucket().await;
    let key = "tenant-a/expiring.mp3";
    bucket.put_stream(key, MP3, chunks(&audio(1000))).await.unwrap();
    let link = bucket.presign_get(key, Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(get(&link).await.status(), 403, "S3 answers AccessDenied, \"Request has expired\"");
}

#[tokio::test]
async fn a_long_recording_goes_up_in_parts_and_comes_back_identical() {
    let bucket = bucket().await;
    let key = "tenant-a/long.mp3";
    let data = audio(20 * MIB);
    let stored = bucket.put_stream(key, MP3, chunks(&data)).await.unwrap();
    assert_eq!(stored, data.len() as u64);
    // A multipart object's ETag ends with its number of parts: 8 + 8 + 4 MiB.
    assert!(etag(&client(), &bucket, key).await.ends_with("-3"), "{}", etag(&client(), &bucket, key).await);
    let head = client().head_object().bucket(bucket.bucket()).key(key).send().await.unwrap();
    assert_eq!((head.content_length(), head.content_type()), (Some(data.len() as i64), Some(MP3)));

    let link = bucket.presign_get(key, Duration::from_secs(300)).await.unwrap();
    let fetched = get(&link).await.bytes().await.unwrap();
    assert_eq!(fetched.len(), data.len());
    assert_eq!(Sha256::digest(&fetched), Sha256::digest(&data), "byte-identical");
    assert!(pending_uploads(&client(), &bucket, key).await.is_empty(), "completed, nothing left pending");
}

#[tokio::test]
async fn a_body_of_exactly_one_part_is_one_put_and_one_byte_more_is_two_parts() {
    let bucket = bucket().await;
    let data = audio(PART_SIZE + 1);
    assert_eq!(bucket.put_stream("one.mp3", MP3, chunks(&data[..PART_SIZE])).await.unwrap(), PART_SIZE as u64);
    assert!(!etag(&client(), &bucket, "one.mp3").await.contains('-'));
    assert_eq!(bucket.put_stream("two.mp3", MP3, chunks(&data)).await.unwrap(), data.len() as u64);
    assert!(etag(&client(), &bucket, "two.mp3").await.ends_with("-2"));
    // One chunk larger than several parts is cut into parts too.
    let whole = stream::iter([Ok::<_, String>(Bytes::from(audio(2 * PART_SIZE + 5)))]);
    assert_eq!(bucket.put_stream("whole.mp3", MP3, whole).await.unwrap(), (2 * PART_SIZE + 5) as u64);
    assert!(etag(&client(), &bucket, "whole.mp3").await.ends_with("-3"));
    let stored = client().get_object().bucket(bucket.bucket()).key("whole.mp3").send().await.unwrap();
    let stored = stored.body.collect().await.unwrap().into_bytes();
    assert_eq!(Sha256::digest(&stored), Sha256::digest(audio(2 * PART_SIZE + 5)));
}

#[tokio::test]
async fn an_empty_recording_is_stored_empty() {
    let bucket = bucket().await;
    assert_eq!(bucket.put_stream("empty.mp3", MP3, stream::iter(Vec::<Result<Bytes, String>>::new())).await.unwrap(), 0);
    assert!(bucket.contains("empty.mp3").await.unwrap());
}

#[tokio::test]
async fn a_download_that_fails_midway_leaves_no_object_and_no_parts() {
    let bucket = bucket().await;
    let key = "tenant-a/cut.mp3";
    let data = audio(10 * MIB);
    let failing = chunks(&data).chain(stream::iter([Err("Twilio's connection dropped".to_owned())]));
    let err = bucket.put_stream(key, MP3, failing).await.unwrap_err();
    assert_eq!(
        err.0,
        format!("S3: the recording for s3://{}/{key} failed after {} bytes: Twilio's connection dropped", bucket.bucket(), 10 * MIB)
    );
    assert!(!bucket.contains(key).await.unwrap());
    assert_eq!(pending_uploads(&client(), &bucket, key).await, Vec::<String>::new(), "the multipart upload was aborted");

    // Failing before a part is full leaves nothing either, with nothing to abort.
    let early = chunks(&data[..MIB]).chain(stream::iter([Err("gone".to_owned())]));
    assert!(bucket.put_stream(key, MP3, early).await.unwrap_err().0.ends_with(&format!("failed after {MIB} bytes: gone")));
    assert!(!bucket.contains(key).await.unwrap());
}

#[test]
fn an_upload_can_run_on_any_thread() {
    fn is_send<T: Send>(_: &T) {}
    let bucket = RecordingBucket::new(client(), "any");
    is_send(&bucket.put_stream("key", MP3, chunks(b"ID3")));
}

#[tokio::test]
async fn contains_and_delete() {
    let bucket = bucket().await;
    let key = "tenant-a/RE0123456789abcdef0123456789abcdef.mp3";
    assert!(!bucket.contains(key).await.unwrap());
    bucket.put_stream(key, MP3, chunks(b"ID3")).await.unwrap();
    assert!(bucket.contains(key).await.unwrap());
    bucket.delete(key).await.unwrap();
    assert!(!bucket.contains(key).await.unwrap());
    bucket.delete(key).await.unwrap();
}

#[tokio::test]
async fn the_bucket_is_created_private_and_encrypted_and_again_safely() {
    let bucket = bucket().await;
    let client = client();
    let again = calltrack_s3::create_local(&client, bucket.bucket()).await.unwrap();
    assert_eq!(again.bucket(), bucket.bucket());
    let block = client.get_public_access_block().bucket(bucket.bucket()).send().await.unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (block.block_public_acls(), block.ignore_public_acls(), block.block_public_policy(), block.restrict_public_buckets()),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let encryption = client.get_bucket_encryption().bucket(bucket.bucket()).send().await.unwrap();
    let rule = &encryption.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(), "AES256");
    let lifecycle = client.get_bucket_lifecycle_configuration().bucket(bucket.bucket()).send().await.unwrap();
    let abort = lifecycle.rules()[0].abort_incomplete_multipart_upload().unwrap();
    assert_eq!(abort.days_after_initiation(), Some(calltrack_s3::ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS));
    // Objects inherit the default encryption.
    bucket.put_stream("encrypted.mp3", MP3, chunks(b"ID3")).await.unwrap();
    let head = client.head_object().bucket(bucket.bucket()).key("encrypted.mp3").send().await.unwrap();
    assert_eq!(head.server_side_encryption().map(|s| s.as_str()), Some("AES256"));
}
