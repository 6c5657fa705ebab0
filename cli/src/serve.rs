//! `calltrack serve`: the functions' own handlers behind one local HTTP server,
//! with the routes of template.yaml, the replay function's loop on the
//! callback queue, the dispatch function's on the calls table's stream, and
//! the deliver function's on the webhook queue. What `sam local start-api` would give, without Docker;
//! meant for ngrok and a real Twilio number. The API's routes (`/api/…` but
//! Twilio's) go to the api function's handler, behind the JWT authorizer
//! played as API Gateway plays it (`authorizer.rs`).

use crate::authorizer::JwtAuthorizer;
use crate::connect::TwilioAccess;
use crate::{Failure, storage};
use calltrack_api::place::Dialer;
use calltrack_api::{Api, ApiRequest};
use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::changes::StreamReader;
use calltrack_outbox::copy::Copier;
use calltrack_outbox::dispatch::{Dispatcher, dispatch};
use calltrack_outbox::{deliver, work};
use calltrack_s3::RecordingBucket;
use calltrack_service::aws::sdk_config;
use calltrack_service::{App, Route};
use calltrack_sqs::SqsQueue;
use calltrack_twilio::Keyring;
use calltrack_twilio_api::Retry;
use calltrack_webhooks::Sender;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// The auth token(s) requests are checked against (a comma-separated list for rotation)
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    auth_token: String,
    /// The URL Twilio calls, e.g. your ngrok URL; http://127.0.0.1:<port> when unset
    #[arg(long, env = "PUBLIC_BASE_URL")]
    public_base_url: Option<String>,
    /// The callback queue, where callbacks go when storage cannot take them
    /// [default: $CALLBACK_QUEUE_URL; with --sqs-endpoint-url alone, calltrack-callbacks is created there]
    #[arg(long)]
    queue_url: Option<String>,
    /// SQS endpoint, e.g. moto's server; AWS when unset
    #[arg(long, env = "AWS_ENDPOINT_URL_SQS")]
    sqs_endpoint_url: Option<String>,
    /// The queue created on --sqs-endpoint-url when no --queue-url is given
    /// (its dead-letter queue is <name>-dead-letter)
    #[arg(long, default_value = "calltrack-callbacks")]
    queue_name: String,
    /// The webhook queue created on --sqs-endpoint-url when WEBHOOK_QUEUE_URL is not set
    /// (its dead-letter queue is <name>-dead-letter)
    #[arg(long, default_value = "calltrack-webhooks")]
    webhook_queue_name: String,
    /// The OIDC issuer whose JWTs the API accepts, as its tokens' iss claim has
    /// it (e.g. the stack's Cognito user pool); without one every API request is
    /// answered 401
    #[arg(long, env = "JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The audience the API's JWTs must name (their aud, or else client_id)
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    jwt_audience: Vec<String>,
    /// Trust the development tokens of `calltrack token` (and no others) for the
    /// API: a key published in this repository, so never where the internet reaches
    #[arg(long, conflicts_with = "jwt_issuer")]
    dev_tokens: bool,
    /// The bucket finished recordings are copied into, with the Twilio API key below
    /// [default: $RECORDING_BUCKET; with --s3-endpoint-url alone, calltrack-recordings is created there]
    #[arg(long)]
    recording_bucket: Option<String>,
    /// S3 endpoint, e.g. moto's server; AWS when unset
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint_url: Option<String>,
    /// The API key the API places calls with (POST /api/calls), and recordings are fetched with; without one it does neither
    #[command(flatten)]
    twilio: TwilioAccess,
    #[command(flatten)]
    storage: storage::Storage,
}

/// What serves a request: the webhooks' app, or the API and its authorizer.
struct Server {
    app: App<DynamoStore>,
    api: Api<DynamoStore>,
    authorizer: Option<JwtAuthorizer>,
}

/// How often a callback is tried before it goes to the dead-letter queue
/// (template.yaml's `maxReceiveCount`).
const MAX_RECEIVE_COUNT: u32 = 10;

pub async fn run(args: Args) -> Result<(), Failure> {
    lambda_http::tracing::init_default_subscriber();
    let listener =
        tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await.map_err(|e| Failure::from(format!("port {}: {e}", args.port)))?;
    let address = listener.local_addr().map_err(|e| Failure::from(e.to_string()))?;
    let base = args.public_base_url.clone().unwrap_or_else(|| format!("http://{address}"));
    let settings = calltrack_service::Settings {
        public_base_url: Some(base.trim_end_matches('/').to_owned()),
        // For `calltrack webhooks listen` and the tests' endpoints.
        local_webhooks: true,
        ..args.storage.settings()?
    };
    let callback_queue = args.queue_url.as_deref().or(settings.callback_queue_url.as_deref());
    let queue = local_or_named_queue(&args, callback_queue, &args.queue_name, MAX_RECEIVE_COUNT).await?;
    // One receive more than the backoff has waits, as template.yaml's WebhookQueue.
    let webhook_receives = settings.webhook_backoff.len() as u32 + 1;
    let webhook_queue =
        local_or_named_queue(&args, settings.webhook_queue_url.as_deref(), &args.webhook_queue_name, webhook_receives).await?;
    let authorizer = match args.jwt_issuer.as_deref().filter(|i| !i.trim().is_empty()) {
        Some(issuer) => Some(JwtAuthorizer::discover(issuer, &args.jwt_audience).await?),
        None if args.dev_tokens => Some(JwtAuthorizer::dev()),
        None => None,
    };
    let twilio = args.twilio.optional_api().await?;
    let bucket = bucket(&args, settings.recording_bucket.as_deref()).await?;
    let mut api = Api::new(args.storage.store().await?, settings.clone());
    if let Some(twilio) = &twilio {
        api = api.with_dialer(Dialer { twilio: twilio.clone(), retry: Retry::default() });
    }
    if let Some(bucket) = &bucket {
        api = api.with_recordings(bucket.clone());
    }
    let copier = match (twilio, bucket) {
        (Some(twilio), Some(bucket)) => Some(Copier { twilio, bucket, delete_from_twilio: settings.delete_recordings_from_twilio }),
        _ => None,
    };
    let mut app = App::new(args.storage.store().await?, Keyring::parse(&args.auth_token)?, settings, "serve");
    if let Some(queue) = &queue {
        app = app.with_queue(queue.clone());
    }
    let server = Arc::new(Server { app, api, authorizer });
    println!("calltrack serving on http://{address} (signatures checked against {base}); Ctrl-C stops", address = address);
    for route in Route::ALL {
        println!("  POST {base}{}", route.path());
    }
    match &server.authorizer {
        Some(authorizer) => println!("  the API ({base}/api/calls, /api/numbers, /api/stats): JWTs of {}", authorizer.issuer()),
        None => println!("  the API ({base}/api/calls, /api/numbers, /api/stats): answered 401 without --jwt-issuer or --dev-tokens"),
    }
    let settings = server.app.settings();
    match (&copier, &queue) {
        (Some(copier), Some(_)) => println!(
            "  finished recordings are copied into s3://{}{}",
            copier.bucket.bucket(),
            if settings.delete_recordings_from_twilio { ", then deleted from Twilio" } else { "" }
        ),
        _ => println!(
            "  recordings stay at Twilio: copying them needs a bucket (--recording-bucket or --s3-endpoint-url), a Twilio API key and the queue"
        ),
    }
    let dispatcher = Dispatcher { copies: queue.clone().filter(|_| copier.is_some()), webhooks: webhook_queue.clone() };
    let (streams, stream_server) = (args.storage.streams_client().await, server.clone());
    tokio::spawn(async move { follow_stream(stream_server.api.store(), streams, &dispatcher).await });
    match webhook_queue {
        Some(queue) => {
            println!("  webhooks (PUT /api/webhooks) are delivered from {}", queue.url());
            let (server, sender) = (server.clone(), Sender::new().map_err(|e| Failure::from(e.to_string()))?);
            tokio::spawn(async move { deliver::poll(server.api.store(), &sender, server.app.settings(), &queue).await });
        }
        None => println!("  no webhook queue (WEBHOOK_QUEUE_URL or --sqs-endpoint-url): no webhooks are sent"),
    }
    match queue {
        Some(queue) => {
            println!("  callbacks that storage cannot take go to {} and are applied from there", queue.url());
            let server = server.clone();
            tokio::spawn(async move { work::poll(server.app.store(), server.app.settings(), copier.as_ref(), &queue).await });
        }
        None => println!("  no callback queue (--queue-url or --sqs-endpoint-url): a callback that storage cannot take is answered 503"),
    }

    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let server = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(server.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(socket), service).await;
                });
            }
        }
    }
}

/// A queue: the one named, or a local one called `name` (and its dead-letter
/// queue, after `max_receive_count` receives) created on the SQS endpoint given.
async fn local_or_named_queue(args: &Args, url: Option<&str>, name: &str, max_receive_count: u32) -> Result<Option<SqsQueue>, Failure> {
    let endpoint = args.sqs_endpoint_url.as_deref().filter(|e| !e.trim().is_empty());
    if url.is_none() && endpoint.is_none() {
        return Ok(None);
    }
    let mut config = aws_sdk_sqs::config::Builder::from(&sdk_config(endpoint).await);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    let client = aws_sdk_sqs::Client::from_conf(config.build());
    Ok(Some(match url {
        Some(url) => SqsQueue::new(client, url),
        None => calltrack_sqs::create_local(&client, name, max_receive_count).await.map_err(|e| Failure::from(e.to_string()))?.0,
    }))
}

/// The bucket recordings are copied into: the one named, or a local one created on the S3 endpoint given.
async fn bucket(args: &Args, from_settings: Option<&str>) -> Result<Option<RecordingBucket>, Failure> {
    let endpoint = args.s3_endpoint_url.as_deref().filter(|e| !e.trim().is_empty());
    let name = args.recording_bucket.as_deref().or(from_settings);
    if name.is_none() && endpoint.is_none() {
        return Ok(None);
    }
    let client = storage::s3_client(endpoint).await;
    Ok(Some(match name {
        Some(name) => RecordingBucket::new(client, name),
        None => calltrack_s3::create_local(&client, LOCAL_BUCKET).await.map_err(|e| Failure::from(e.to_string()))?,
    }))
}

/// The bucket created on --s3-endpoint-url when no --recording-bucket is given.
const LOCAL_BUCKET: &str = "calltrack-recordings";

/// The dispatch function's work, in process: the calls table's stream read
/// as Lambda's event source would, each batch dispatched until it is (a batch
/// that could not be queued is tried again, as the stream would give it again).
async fn follow_stream(store: &DynamoStore, streams: aws_sdk_dynamodbstreams::Client, dispatcher: &Dispatcher) {
    let table = &store.tables().calls;
    let pause = std::time::Duration::from_millis(250);
    let mut reader = loop {
        match StreamReader::open(store.client(), streams.clone(), table).await {
            Ok(reader) => break reader,
            Err(err) => {
                lambda_http::tracing::warn!(table, reason = %err, "cannot read the calls table's stream yet (`calltrack tables create` gives it one)");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    };
    loop {
        let records = match reader.next_batch().await {
            Ok(records) => records,
            Err(err) => {
                lambda_http::tracing::warn!(reason = %err, "could not read the calls table's stream");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        // Four reads a second, as Lambda polls a stream's shard: no busier on DynamoDB Local under load.
        tokio::time::sleep(pause).await;
        if records.is_empty() {
            continue;
        }
        while let Err(err) = dispatch(dispatcher, store, records.clone()).await {
            lambda_http::tracing::warn!(reason = %err, "stream batch not dispatched; trying again");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

/// One HTTP request through the same handlers the Lambdas run: the API's
/// routes behind the JWT authorizer, the webhooks behind their signatures.
async fn handle(server: Arc<Server>, request: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(text(400, "unreadable body")),
    };
    let path = parts.uri.path();
    if path.starts_with("/api/") && !path.starts_with("/api/twilio/") {
        let authorization = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
        let claims = server.authorizer.as_ref().and_then(|authorizer| match authorizer.claims(authorization) {
            Ok(claims) => Some(claims),
            Err(why) => {
                lambda_http::tracing::info!(path, reason = %why, "token refused");
                None
            }
        });
        let request = ApiRequest {
            method: parts.method.to_string(),
            path: path.to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body: body.to_vec(),
            claims,
            idempotency_key: parts.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned),
            origin: None,
        };
        let answer = server.api.handle(&request).await;
        let mut response = hyper::Response::new(Full::new(Bytes::from(answer.body)));
        *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        if !answer.content_type.is_empty() {
            response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static(answer.content_type));
        }
        if let Some(allow) = answer.allow {
            response.headers_mut().insert("allow", hyper::header::HeaderValue::from_static(allow));
        }
        if let Some(seconds) = answer.retry_after {
            response.headers_mut().insert("retry-after", hyper::header::HeaderValue::from(seconds));
        }
        return Ok(response);
    }
    let request = lambda_http::Request::from_parts(parts, lambda_http::Body::from(body.to_vec()));
    let response = server.app.handle(Route::ALL, &request).await;
    let (parts, body) = response.into_parts();
    Ok(hyper::Response::from_parts(parts, Full::new(Bytes::from(body.to_vec()))))
}

fn text(status: u16, text: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    response
}
