//! The auth tokens of a deployed stack come from an SSM Parameter Store
//! SecureString. Tested against moto's server, which speaks SSM
//! (`make test` starts it and sets AWS_ENDPOINT_URL_SSM).

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;
use calltrack_service::lambda::keyring_from_ssm;
use calltrack_twilio::signature::{self, Algorithm, Payload};
use calltrack_twilio::{Params, RawRequest, Webhook};

async fn aws() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SSM")
        .expect("this test runs against moto: run it with `make test` (or scripts/with-moto cargo test)");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .load()
        .await
}

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
    let aws = aws().await;
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
    let err = keyring_from_ssm(&aws().await, "/calltrack/test/missing").await.unwrap_err().to_string();
    assert!(err.contains("/calltrack/test/missing"), "{err}");
}
