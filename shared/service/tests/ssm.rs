//! The auth tokens of a deployed stack come from an SSM Parameter Store
//! SecureString. Tested against moto's server, which speaks SSM
//! (`make test` starts it and sets AWS_ENDPOINT_URL_SSM).

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;
use calltrack_service::lambda::keyring_from_ssm;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Params, RawRequest, Webhook};

fn signed_with(token: &str) -> Webhook {
    let url = "https://calls.example.com/api/twilio/voice/status";
    let body = "AccountSid=AC11111111111111111111111111111111&CallSid=CA0123456789abcdef0123456789abcdef";
    let params = Params::from_form(body.as_bytes()).unwrap();
    let signature = signature::sign(token, Algorithm::HmacSha1, url, Payload::Form(&params));
    let raw = RawRequest {
        method: "POST",
        url,
        content_type: Some("application/x-www-form-urlencoded"),
        body: body.as_bytes(),
        signature: Some(&signature),
        settings: None,
    };
    Webhook::from_raw(raw).unwrap()
}

#[tokio::test]
async fn tokens_are_read_from_a_secure_string() {
    let aws = calltrack_service::testing::moto_ssm().await;
    let name = format!("/calltrack/test/{}/twilio-auth-token", std::process::id());
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let tokens = "new-primary, old-secondary\nAC11111111111111111111111111111111=subaccount-token";
    ssm.put_parameter().name(&name).r#type(ParameterType::SecureString).value(tokens).overwrite(true).send().await.unwrap();

    let keys = keyring_from_ssm(&aws, &name).await.unwrap();
    for token in ["new-primary", "old-secondary", "subaccount-token"] {
        assert_eq!(signed_with(token).verify(&keys), Ok(()), "{token}");
    }
    assert!(signed_with("someone-else").verify(&keys).is_err());
}

#[tokio::test]
async fn a_missing_parameter_is_an_error_that_names_it() {
    let err = keyring_from_ssm(&calltrack_service::testing::moto_ssm().await, "/calltrack/test/missing").await.unwrap_err().to_string();
    assert!(err.contains("/calltrack/test/missing"), "{err}");
}

#[tokio::test]
async fn the_documented_test_token_is_refused_from_ssm() {
    let aws = calltrack_service::testing::moto_ssm().await;
    let name = format!("/calltrack/test/{}/test-token", std::process::id());
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let tokens = format!("real-token,{}", calltrack_service::lambda::TEST_AUTH_TOKEN);
    ssm.put_parameter().name(&name).r#type(ParameterType::SecureString).value(tokens).overwrite(true).send().await.unwrap();
    let err = keyring_from_ssm(&aws, &name).await.unwrap_err().to_string();
    assert!(err.contains("documented test token") && err.contains(&name), "{err}");
}

/// An SSM endpoint that throttles the first `throttled` requests, as SSM does
/// when many functions start at once, then answers with the parameter.
async fn throttling_ssm(throttled: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    calltrack_dynamo::testing::scripted_endpoint(move |n| {
        if n < throttled {
            (400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned())
        } else {
            (200, r#"{"Parameter":{"Name":"/p","Type":"SecureString","Value":"real-token","Version":1}}"#.to_owned())
        }
    })
    .await
}

#[tokio::test]
async fn throttling_at_cold_start_is_retried_with_backoff() {
    let (endpoint, requests) = throttling_ssm(3).await;
    let aws = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .timeout_config(calltrack_service::aws::timeouts())
        .retry_config(calltrack_service::aws::retries())
        .load()
        .await;
    let keys = keyring_from_ssm(&aws, "/p").await.expect("read after three throttled tries");
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(signed_with("real-token").verify(&keys), Ok(()));

    let (endpoint, requests) = throttling_ssm(usize::MAX).await;
    let aws = aws.into_builder().endpoint_url(endpoint).build();
    let err = keyring_from_ssm(&aws, "/p").await.unwrap_err().to_string();
    assert!(err.contains("ThrottlingException"), "{err}");
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 5, "five tries, then the cold start fails, saying why");
}
