//! The CPU time of a whole webhook, excluding I/O: the API Gateway event's JSON
//! read, the request built, signature checked, parameters parsed, the call
//! update built and serialised into the DynamoDB items a write would send, the
//! response made and its JSON written, and the JSON log line, as a function
//! does for one invocation.
//!
//! Storage is a [`Store`] that does no I/O: it builds the same items as
//! `DynamoStore` and answers at once. Left out, beside the network: the AWS
//! SDK's request serialisation and SigV4 signing, and the Lambda runtime's HTTP.
//!
//! Run: `make bench` (or `cargo bench -p calltrack-shared --bench webhook`).

use calltrack_shared::Keyring;
#[path = "../tests/common/mod.rs"]
mod common;

use calltrack_shared::apigw;
use calltrack_shared::app::{App, Config, Route};
use calltrack_shared::call::{Call, CallUpdate};
use calltrack_shared::error::Error;
use calltrack_shared::fields::{CallSid, PhoneNumber};
use calltrack_shared::store::{CallDetail, CallQuery, Page, Recorded, Scope, Store};
use calltrack_shared::tracking_number::TrackingNumber;
use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use std::hint::black_box;

const STATUS: &str = include_str!("../../events/status-parent-completed.json");
const ANSWER: &str = include_str!("../../events/answer-known-number.json");

type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// Storage without I/O: the items a write would send are built, then dropped.
struct NoIo(TrackingNumber);

impl Store for NoIo {
    async fn tracking_number(&self, _: &PhoneNumber) -> Result<Option<TrackingNumber>, Error> {
        Ok(Some(self.0.clone()))
    }
    async fn put_tracking_number(&self, _: &TrackingNumber) -> Result<(), Error> {
        unreachable!("webhooks do not write numbers")
    }
    async fn remove_tracking_number(&self, _: &PhoneNumber) -> Result<bool, Error> {
        unreachable!("webhooks do not remove numbers")
    }
    async fn tracking_numbers(&self) -> Result<Vec<TrackingNumber>, Error> {
        unreachable!("webhooks do not list numbers")
    }
    async fn record(&self, update: &CallUpdate) -> Result<Recorded, Error> {
        let call: Item = serde_dynamo::to_item(&update.call).expect("serialises");
        let event: Item = serde_dynamo::to_item(&update.event).expect("serialises");
        black_box((call, event));
        // The usual case: the call was answered, and so owned, before its callbacks.
        let call = Call { attributed: true, ..update.call.clone() };
        Ok(Recorded::Applied { call: Box::new(call), newly_qualified: false })
    }
    async fn call(&self, _: &Scope, _: &CallSid) -> Result<Option<CallDetail>, Error> {
        unreachable!("the status route reads a call only for a redelivery")
    }
    async fn calls(&self, _: &CallQuery) -> Result<Page, Error> {
        unreachable!("webhooks do not list calls")
    }
}

fn app() -> App<NoIo> {
    let config = Config { public_base_url: Some("http://127.0.0.1:3000".into()), ..Config::default() };
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
