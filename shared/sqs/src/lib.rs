//! The callback queue on SQS (and any other queue: [`SqsQueue::send`]). A route whose write met a storage outage puts
//! the callback here ([`DeferCallbacks`]) and answers Twilio 2xx; the replay
//! consumer (a Lambda on the queue's event source, or `calltrack serve`'s own
//! loop) applies it once storage is back. A message that keeps failing waits
//! longer each time ([`backoff`]) and, after the queue's `maxReceiveCount`,
//! moves to the dead-letter queue, whose alarm tells the operator.

#[cfg(feature = "testing")]
pub mod testing;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};
use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{DeferCallbacks, StorageError};
use std::time::Duration;

/// The queue the routes defer callbacks to.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

/// One message taken from the queue, however it arrived (a Lambda event or a
/// `ReceiveMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue { client, url: url.into() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Up to 10 messages, waiting at most `wait` for the first (long polling).
    pub async fn receive(&self, wait: Duration) -> Result<Vec<Received>, StorageError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| failed("receive from", &self.url, e))?;
        let received = output.messages.unwrap_or_default().into_iter().filter_map(|message| {
            let receive_count = message
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            Some(Received { message_id: message.message_id?, receipt_handle: message.receipt_handle?, body: message.body?, receive_count })
        });
        Ok(received.collect())
    }

    /// A message was applied: it leaves the queue.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), StorageError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| failed("delete from", &self.url, e))?;
        Ok(())
    }

    /// A message could not be applied: it comes back after `delay`.
    pub async fn retry_later(&self, receipt_handle: &str, delay: Duration) -> Result<(), StorageError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay.as_secs().min(MAX_VISIBILITY.as_secs()) as i32)
            .send()
            .await
            .map_err(|e| failed("change visibility on", &self.url, e))?;
        Ok(())
    }
}

impl SqsQueue {
    /// Puts one message on the queue.
    pub async fn send(&self, body: &str) -> Result<(), StorageError> {
        self.client.send_message().queue_url(&self.url).message_body(body).send().await.map_err(|e| failed("send to", &self.url, e))?;
        Ok(())
    }

    /// Puts messages on the queue, ten to a request (SQS's most). Any one not
    /// taken fails the whole: its caller sends them all again, and a message
    /// sent twice must be harmless.
    pub async fn send_all(&self, bodies: &[String]) -> Result<(), StorageError> {
        for ten in bodies.chunks(10) {
            let entries = ten
                .iter()
                .enumerate()
                .map(|(n, body)| SendMessageBatchRequestEntry::builder().id(n.to_string()).message_body(body).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StorageError(format!("SQS: a batch for {}: {e}", self.url)))?;
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| failed("send to", &self.url, e))?;
            if let Some(refused) = sent.failed.first() {
                return Err(StorageError(format!(
                    "SQS: {} of {} messages not taken by {}: {} {}",
                    sent.failed.len(),
                    ten.len(),
                    self.url,
                    refused.code,
                    refused.message.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}

impl DeferCallbacks for SqsQueue {
    async fn defer(&self, callback: &DeferredCallback) -> Result<(), StorageError> {
        let body = serde_json::to_string(callback).map_err(|e| StorageError(format!("encoding a deferred callback: {e}")))?;
        self.send(&body).await
    }
}

/// SQS's longest visibility timeout.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// How long a message that failed its `receive_count`th try waits before the
/// next: `base`, doubled each time, at most 15 minutes. With the template's
/// base (10 s) and `maxReceiveCount` (10), a message is tried for about
/// 50 minutes before it goes to the dead-letter queue.
pub fn backoff(base: Duration, receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(16);
    (base * 2u32.pow(doublings)).min(Duration::from_secs(900))
}

/// A queue and its dead-letter queue, as template.yaml deploys them, for a local
/// SQS (moto's server): `name` and `name-dead-letter`. Creating an existing
/// queue with the same attributes returns it, so this is safe to run again.
pub async fn create_local(client: &Client, name: &str, max_receive_count: u32) -> Result<(SqsQueue, SqsQueue), StorageError> {
    let create = |name: String, attributes: Vec<(QueueAttributeName, String)>| async move {
        let mut request = client.create_queue().queue_name(&name);
        for (key, value) in attributes {
            request = request.attributes(key, value);
        }
        let output = request.send().await.map_err(|e| failed("create", &name, e))?;
        output.queue_url.ok_or_else(|| StorageError(format!("SQS: no URL for the new queue {name}")))
    };
    let dead_letter_url = create(format!("{name}-dead-letter"), vec![]).await?;
    let dead_letter_arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed("read the ARN of", &dead_letter_url, e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| StorageError(format!("SQS: no ARN for {dead_letter_url}")))?;
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dead_letter_arn}","maxReceiveCount":"{max_receive_count}"}}"#);
    let url = create(name.to_owned(), vec![(QueueAttributeName::RedrivePolicy, redrive)]).await?;
    Ok((SqsQueue::new(client.clone(), url), SqsQueue::new(client.clone(), dead_letter_url)))
}

fn failed(what: &str, url: &str, err: impl std::error::Error) -> StorageError {
    StorageError(format!("SQS: {what} {url}: {}", DisplayErrorContext(err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_its_base_up_to_a_ceiling() {
        let base = Duration::from_secs(10);
        let waits: Vec<u64> = (1..=9).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(base, u32::MAX), Duration::from_secs(900));
    }
}
