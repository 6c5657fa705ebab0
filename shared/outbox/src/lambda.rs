//! The outbox's functions, each built once at init: the dispatch function on
//! the calls table's stream, the deliver function on the webhook queue, and
//! the replay function on the callback queue (deferred callbacks, and
//! recordings to copy).

use crate::copy::Copier;
use crate::deliver::deliver_batch;
use crate::dispatch::{Dispatcher, dispatch};
use crate::work::work_batch;
use aws_config::SdkConfig;
use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use calltrack_s3::RecordingBucket;
use calltrack_service::Settings;
use calltrack_service::aws::{sdk_config, secure_parameter};
use calltrack_service::lambda::{received, store};
use calltrack_sqs::{Received, SqsQueue};
use calltrack_twilio_api::{Credentials, TwilioApi};
use calltrack_webhooks::Sender;
use lambda_http::{LambdaEvent, service_fn, tracing};

/// The dispatch function: each batch of the calls table's stream, queued. An
/// error fails the batch, which the stream gives again.
pub async fn dispatch_stream() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    let aws = sdk_config(None).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    // Recordings are copied only with a bucket and the API key to fetch them with (template.yaml sets both or neither).
    let copies = match (&settings.recording_bucket, &settings.twilio_api_key_parameter, &settings.callback_queue_url) {
        (Some(_), Some(_), Some(url)) => Some(SqsQueue::new(sqs.clone(), url)),
        _ => None,
    };
    let webhooks = settings.webhook_queue_url.as_ref().map(|url| SqsQueue::new(sqs.clone(), url));
    let dispatcher = &Dispatcher { copies, webhooks };
    let store = &store(&aws, &settings).await;
    let handler = service_fn(move |event: LambdaEvent<StreamEvent>| async move {
        let records = event.payload.records.into_iter().map(|r| (r.change.old_image.into(), r.change.new_image.into())).collect();
        let dispatched = dispatch(dispatcher, store, records).await?;
        tracing::info!(
            changes = dispatched.changes,
            copies = dispatched.copies,
            deliveries = dispatched.deliveries,
            "stream batch dispatched"
        );
        Ok::<_, lambda_http::Error>(())
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The deliver function: each batch of the webhook queue sent, the ones that
/// failed reported, to come back after their backoff.
pub async fn deliver_webhooks() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    let url = settings.webhook_queue_url.clone().ok_or("missing WEBHOOK_QUEUE_URL")?;
    let aws = sdk_config(None).await;
    let store = store(&aws, &settings).await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&aws), url);
    let sender = Sender::new()?;
    let (store, settings, queue, sender) = (&store, &settings, &queue, &sender);
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let messages: Vec<Received> = event.payload.records.into_iter().filter_map(received).collect();
        let failed = deliver_batch(store, sender, settings, queue, &messages).await;
        let mut response = SqsBatchResponse::default();
        for id in failed {
            response.add_failure(id);
        }
        Ok::<_, lambda_http::Error>(response)
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The replay function: each batch of the callback queue carried out, the
/// ones that failed reported, to come back after their backoff.
pub async fn replay() -> Result<(), lambda_http::Error> {
    let settings = Settings::from_env()?;
    let url = settings.callback_queue_url.clone().ok_or("missing CALLBACK_QUEUE_URL")?;
    let aws = sdk_config(None).await;
    let store = store(&aws, &settings).await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&aws), url);
    // Built at the first batch that can, and kept: a key that cannot be read (SSM
    // throttled at a burst of cold starts) must not stop deferred callbacks, and is
    // read again at the next batch while copies wait on the queue.
    let copier = tokio::sync::OnceCell::new();
    let (store, settings, queue, copier, aws) = (&store, &settings, &queue, &copier, &aws);
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let messages: Vec<Received> = event.payload.records.into_iter().filter_map(received).collect();
        let copies = settings.recording_bucket.is_some() && settings.twilio_api_key_parameter.is_some();
        let built = || async { build_copier(aws, settings).await.and_then(|c| c.ok_or_else(|| "no bucket or no key".into())) };
        let copier = if copies {
            copier
                .get_or_try_init(built)
                .await
                .map_err(|err| tracing::error!(reason = %err, "recordings cannot be copied until the Twilio API key can be read"))
                .ok()
        } else {
            None
        };
        let failed = work_batch(store, settings, copier, queue, &messages).await;
        let mut response = SqsBatchResponse::default();
        for id in failed {
            response.add_failure(id);
        }
        Ok::<_, lambda_http::Error>(response)
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// What copies recordings, when `RECORDING_BUCKET` names a bucket: Twilio's API
/// with the key in `TWILIO_API_KEY_PARAMETER`, read once. A bucket without a
/// key copies nothing (each copy fails, saying why, and is dead-lettered).
pub async fn build_copier(aws: &SdkConfig, settings: &Settings) -> Result<Option<Copier>, lambda_http::Error> {
    let Some(bucket) = &settings.recording_bucket else { return Ok(None) };
    let Some(name) = &settings.twilio_api_key_parameter else {
        tracing::warn!("RECORDING_BUCKET is set but TWILIO_API_KEY_PARAMETER is not: recordings cannot be fetched from Twilio");
        return Ok(None);
    };
    let credentials = Credentials::parse(&secure_parameter(aws, name).await?).map_err(|e| format!("SSM parameter {name}: {e}"))?;
    let base_url = settings.twilio_api_base_url.as_deref().unwrap_or(calltrack_twilio_api::DEFAULT_BASE_URL);
    Ok(Some(Copier {
        twilio: TwilioApi::new(base_url, credentials)?,
        bucket: RecordingBucket::new(aws_sdk_s3::Client::new(aws), bucket),
        delete_from_twilio: settings.delete_recordings_from_twilio,
    }))
}
