//! The callback queue's consumer (the replay function, or `calltrack serve`'s
//! loop): deferred callbacks, applied as [`calltrack_service::replay`] does,
//! and recordings to copy ([`crate::copy`]). Each that fails comes back after
//! its backoff ([`calltrack_sqs::backoff`]) and, after the queue's
//! `maxReceiveCount` tries, goes to the dead-letter queue.

use crate::copy::{Copied, Copier, CopyMessage, copy};
use calltrack_core::ports::{LookUpNumbers, ReadCalls, RecordCalls};
use calltrack_service::replay;
use calltrack_service::settings::Settings;
use calltrack_sqs::{Received, SqsQueue, backoff};
use futures_util::future::join_all;
use lambda_http::tracing;
use std::time::Duration;

/// Carries out a batch of messages. Returns the ids of those that failed,
/// each set to come back after its backoff; the others are done.
pub async fn work_batch<S: RecordCalls + LookUpNumbers + ReadCalls>(
    store: &S,
    settings: &Settings,
    copier: Option<&Copier>,
    queue: &SqsQueue,
    messages: &[Received],
) -> Vec<String> {
    let (copies, callbacks): (Vec<_>, Vec<_>) = messages.iter().cloned().partition(|m| CopyMessage::read(&m.body).is_some());
    let mut failed = replay::apply_batch(store, settings, queue, &callbacks).await;
    // A few at once: each holds about one part of its audio (calltrack_s3::PART_SIZE)
    // in memory, and a batch's copies must end within the function's timeout.
    for some in copies.chunks(COPIES_AT_ONCE) {
        // Futures gathered in a loop, not a closure: a closure over borrowed
        // messages is not general enough for a spawned task (rust#110338).
        let mut copying = Vec::with_capacity(some.len());
        for message in some {
            copying.push(copy_one(store, settings, copier, queue, message));
        }
        failed.extend(join_all(copying).await.into_iter().flatten());
    }
    failed
}

/// How many recordings a batch copies at once (template.yaml sizes the replay
/// function's memory and timeout for this many).
pub const COPIES_AT_ONCE: usize = 3;

/// Copies the recording `message` asks for; its id when it failed, set to
/// come back after its backoff.
async fn copy_one<S: RecordCalls + ReadCalls>(
    store: &S,
    settings: &Settings,
    copier: Option<&Copier>,
    queue: &SqsQueue,
    message: &Received,
) -> Option<String> {
    let outcome = match (CopyMessage::read(&message.body).expect("partitioned as a copy"), copier) {
        (Err(unreadable), _) => Err(unreadable),
        (Ok(_), None) => Err("a recording copy, but no bucket is configured (RECORDING_BUCKET) or no Twilio API key".to_owned()),
        (Ok(job), Some(copier)) => {
            let deadline = settings.copy_deadline;
            match tokio::time::timeout(deadline, copy(store, copier, &job, calltrack_service::app::now_ms())).await {
                Ok(Ok(Copied::Stored { bytes })) => {
                    tracing::info!(message_id = message.message_id, key = job.key(), bytes, "recording copied");
                    Ok(())
                }
                Ok(Ok(Copied::CallGone)) => {
                    tracing::info!(message_id = message.message_id, call_sid = %job.call_sid, "recording copy for a call erased since: dropped");
                    Ok(())
                }
                Ok(Ok(Copied::ForeignAccount)) => {
                    tracing::warn!(message_id = message.message_id, call_sid = %job.call_sid, "recording copy for a call in another account: dropped");
                    Ok(())
                }
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err(format!("no end within {deadline:?}")),
            }
        }
    };
    let reason = outcome.err()?;
    let wait = backoff(settings.replay_backoff, message.receive_count);
    tracing::warn!(
        message_id = message.message_id,
        tries = message.receive_count,
        retry_in_s = wait.as_secs(),
        reason,
        "recording not copied"
    );
    if let Err(err) = queue.retry_later(&message.receipt_handle, wait).await {
        tracing::warn!(message_id = message.message_id, reason = %err, "could not set the backoff; the queue's visibility timeout applies");
    }
    Some(message.message_id.clone())
}

/// `calltrack serve`'s consumer: takes messages from `queue` and carries them
/// out until the process stops, as the replay Lambda does in a deployed stack.
pub async fn poll<S: RecordCalls + LookUpNumbers + ReadCalls>(store: &S, settings: &Settings, copier: Option<&Copier>, queue: &SqsQueue) {
    loop {
        let messages = match queue.receive(Duration::from_secs(1)).await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(reason = %err, "could not read the callback queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let failed = work_batch(store, settings, copier, queue, &messages).await;
        for message in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
            if let Err(err) = queue.delete(&message.receipt_handle).await {
                tracing::warn!(message_id = message.message_id, reason = %err, "done, but not deleted: it will be done again, harmlessly");
            }
        }
    }
}
