//! schemathesis (PyPI) against `calltrack serve`, with the committed OpenAPI
//! description (`docs/openapi.json`): every operation, with data generated from
//! the description, valid and not, then stateful sequences; every check
//! (server errors, status codes and content types as described, responses
//! that match their schemas, valid data accepted and invalid data refused, an
//! `Allow` header on a 405). The test passes only when it finds nothing.
//!
//!   scripts/with-dynamodb-local scripts/with-moto scripts/with-prism cargo test -p calltrack --test schemathesis -- --nocapture

mod common;

use calltrack_core::call::CallUpdate;
use calltrack_core::copy::RecordingCopy;
use calltrack_core::ports::{ReadCalls, RecordCalls};
use calltrack_core::view::{CallQuery, TenantId};
use calltrack_dynamo::{DynamoStore, TableNames};
use calltrack_twilio::fields::Field;
use common::{NUMBER, TOKEN, add_number, queue_name, run_ok, serve_env, storage_args};
use std::process::Command;

#[test]
fn schemathesis_finds_nothing() {
    let storage = storage_args();
    add_number(&storage);
    // Calls are placed with Twilio's API as Prism mocks it (scripts/with-prism).
    let prism = std::env::var("TWILIO_API_BASE_URL").expect("run with `make test`, which starts the Prism mock");
    let twilio = [
        ("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_SECRET", "not-a-secret"),
        ("TWILIO_API_BASE_URL", &prism),
    ];
    let (_server, url) = serve_env(&storage, &["--queue-name", &queue_name(), "--dev-tokens"], None, &twilio);
    let args = ["simulate", "--base-url", &url, "--auth-token", TOKEN, "--to", NUMBER, "--scenario", "mixed", "--calls", "5", "--quiet"];
    run_ok(&args, &storage);
    let token = run_ok(&["token", "--tenant", "acme", "--user", "jane", "--role", "admin"], &[]).trim().to_owned();
    let recorded = tokio::runtime::Runtime::new().unwrap().block_on(copy_a_recording(&storage));
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(format!("{root}/scripts/python-tools"))
        .current_dir(root)
        .args([
            "schemathesis",
            "--config-file",
            "cli/tests/data/schemathesis.toml",
            "run",
            "docs/openapi.json",
            "--url",
            &url,
            "--checks",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "20261124",
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        // The call whose recording GET /api/calls/{callSid}/recording links to (schemathesis.toml).
        .env("CALLTRACK_RECORDED_CALL", &recorded)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(output.status.success() && report.contains("No issues found"), "{report}\n{}", String::from_utf8_lossy(&output.stderr));
}

/// Copies one simulated call's recording into the bucket `serve` made on moto's S3, as the
/// replay function would (serve's own copier fetches from Prism, which has no audio), so
/// that the recording route has a link to give. Returns the call's SID.
async fn copy_a_recording(storage: &[String]) -> String {
    let arg = |name: &str| storage[storage.iter().position(|a| a == name).unwrap() + 1].clone();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "tests"))
            .endpoint_url(arg("--endpoint-url"))
            .build(),
    );
    let tables = TableNames {
        calls: arg("--calls-table"),
        events: arg("--events-table"),
        numbers: arg("--numbers-table"),
        index: arg("--index-table"),
    };
    let store = DynamoStore::new(client, tables, std::time::Duration::from_secs(86_400));
    let acme = TenantId::parse("tenant", "acme").unwrap();
    let calls = store.calls(&CallQuery::tenant(acme)).await.unwrap().items;
    let call = calls.iter().find(|c| c.recording.is_some()).expect("a simulated call with a recording");
    let copy = RecordingCopy {
        call_sid: call.call_sid,
        account_sid: call.account_sid.expect("its account"),
        recording_sid: call.recording.as_ref().unwrap().sid,
        tenant_id: call.tenant_id.clone(),
    };
    let bucket = calltrack_s3::create_local(&calltrack_s3::testing::client(), "calltrack-recordings").await.unwrap();
    let audio = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"ID3 an MP3"))]);
    bucket.put_stream(&copy.key(), "audio/mpeg", audio).await.unwrap();
    store.record(&CallUpdate::recording_copied(&copy, calltrack_service::app::now_ms())).await.unwrap();
    call.call_sid.to_string()
}
