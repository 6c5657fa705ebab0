//! The CPU time of a whole webhook, excluding I/O: the API Gateway event's JSON
//! read, the request built, signature checked, parameters parsed, the call
//! update built and serialised into the DynamoDB items a write would send, the
//! response made and its JSON written, and the JSON log line, as a function
//! does for one invocation.
//!
//! Storage is a store that does no I/O: it merges, builds the same items as
//! `DynamoStore` and answers at once. Left out, beside the network: the AWS
//! SDK's request serialisation and SigV4 signing, and the Lambda runtime's HTTP.
//!
//! Run: `make bench` (or `cargo bench -p calltrack-service --bench webhook`).

#[path = "../tests/common/mod.rs"]
mod common;

use calltrack_core::call::{Applied, Call, CallUpdate, Changes};
use calltrack_core::ports::{LookUpNumbers, ReadCalls, RecordCalls, Recorded, StorageError};
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_core::view::{CallQuery, CallSummary, CallView, Page, Scope};
use calltrack_dynamo::item::{call_item, event_item};
use calltrack_service::{App, Route, Settings, apigw};
use calltrack_twilio::Keyring;
use calltrack_twilio::fields::{CallSid, PhoneNumber};
use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use std::hint::black_box;
use std::time::Duration;

const STATUS: &str = include_str!("../../../events/status-parent-completed.json");
const ANSWER: &str = include_str!("../../../events/answer-known-number.json");

/// Storage without I/O: the items `DynamoStore` would write are built, then dropped.
struct NoIo(TrackingNumber);

impl LookUpNumbers for NoIo {
    async fn tracking_number(&self, _: &PhoneNumber) -> Result<Option<TrackingNumber>, StorageError> {
        Ok(Some(self.0.clone()))
    }
}

impl RecordCalls for NoIo {
    async fn record(&self, update: &CallUpdate) -> Result<Recorded, StorageError> {
        let items = (call_item(&update.call, 1), event_item(&update.event, Duration::from_secs(86_400)));
        black_box(items);
        // The usual case: the call was answered, and so owned, before its callbacks.
        let call = Call { attributed: true, ..update.call.clone() };
        Ok(Recorded::Applied(Box::new(Applied { call, changes: Changes::default() })))
    }
}

impl ReadCalls for NoIo {
    async fn call(&self, _: &Scope, _: &CallSid) -> Result<Option<CallView>, StorageError> {
        unreachable!("webhooks do not read calls")
    }
    async fn calls(&self, _: &CallQuery) -> Result<Page<CallSummary>, StorageError> {
        unreachable!("webhooks do not list calls")
    }
    async fn is_attributed(&self, _: &CallSid) -> Result<Option<bool>, StorageError> {
        unreachable!("the status route asks only for a redelivery")
    }
}

fn app() -> App<NoIo> {
    let config = Settings { public_base_url: Some("http://127.0.0.1:3000".into()), ..Settings::default() };
    App::new(
        NoIo(common::number("tenant-demo", "user-1", None)),
        Keyring::default().with_token("test-auth-token-not-a-secret"),
        config,
        "bench",
    )
}

/// One invocation, as the runtime hands it over and takes the answer back.
async fn invoke(app: &App<NoIo>, routes: &[Route], event: &str) -> String {
    let event: ApiGatewayV2httpRequest = serde_json::from_str(event).expect("an event");
    serde_json::to_string(&apigw::handle_event(app, routes, event).await).expect("serialises")
}

fn benches(c: &mut Criterion) {
    // The functions' JSON log line per request, written nowhere.
    lambda_http::tracing::subscriber::fmt().json().with_writer(std::io::sink).init();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let app = app();
    let status = runtime.block_on(invoke(&app, Route::STATUS_FUNCTION, STATUS));
    assert!(status.contains(r#""statusCode":204"#), "{status}");
    let answer = runtime.block_on(invoke(&app, Route::ANSWER_FUNCTION, ANSWER));
    assert!(answer.contains(r#""statusCode":200"#) && answer.contains("Dial"), "{answer}");

    c.bench_function("webhook/status_callback_whole", |b| {
        b.iter(|| runtime.block_on(invoke(black_box(&app), Route::STATUS_FUNCTION, black_box(STATUS))))
    });
    c.bench_function("webhook/answer_whole_warm_cache", |b| {
        b.iter(|| runtime.block_on(invoke(black_box(&app), Route::ANSWER_FUNCTION, black_box(ANSWER))))
    });
}

criterion_group!(webhook, benches);
criterion_main!(webhook);
