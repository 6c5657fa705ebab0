//! The api function's Twilio API key comes from an SSM SecureString
//! (`TWILIO_API_KEY_PARAMETER`), read once at init. Tested against moto's
//! server, which speaks SSM (`make test` starts it and sets AWS_ENDPOINT_URL_SSM).

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;
use calltrack_api::lambda::dialer;
use calltrack_service::Settings;
use calltrack_twilio::fields::PhoneNumber;
use calltrack_twilio_api::NewCall;
use calltrack_twilio_api::testing::{Answer, FakeTwilio};

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

async fn put(aws: &aws_config::SdkConfig, name: &str, value: &str) {
    let ssm = aws_sdk_ssm::Client::new(aws);
    ssm.put_parameter().name(name).r#type(ParameterType::SecureString).value(value).overwrite(true).send().await.unwrap();
}

#[tokio::test]
async fn the_api_key_is_read_from_a_secure_string_and_places_calls_in_its_account() {
    let aws = aws().await;
    let name = format!("/calltrack/test/{}/twilio-api-key", std::process::id());
    let account = "AC0123456789abcdef0123456789abcdef";
    put(&aws, &name, &format!(r#"{{"accountSid":"{account}","apiKeySid":"SK0123456789abcdef0123456789abcdef","apiKeySecret":"s3cret"}}"#))
        .await;
    let twilio = FakeTwilio::start([Answer::call_created("CA0123456789abcdef0123456789abcdef")]).await;
    let settings = Settings {
        twilio_api_key_parameter: Some(name.clone()),
        twilio_api_base_url: Some(twilio.base_url().to_owned()),
        ..Settings::default()
    };
    let dialer = dialer(&aws, &settings).await.unwrap().expect("a key");
    assert_eq!(dialer.twilio.account_sid().as_str(), account);
    let number = |n: &str| PhoneNumber::e164("n", n).unwrap();
    let call = NewCall {
        to: number("+14155550123"),
        from: number("+18005551212"),
        url: "https://calls.example.com/api/twilio/voice/connect".into(),
        status_callback: "https://calls.example.com/api/twilio/voice/status".into(),
        timeout_seconds: 20,
    };
    let placed = dialer.twilio.place_call(dialer.twilio.account_sid(), &call, &dialer.retry).await.unwrap();
    assert_eq!(placed.sid.as_str(), "CA0123456789abcdef0123456789abcdef");
    assert_eq!(twilio.requests()[0].path, format!("/2010-04-01/Accounts/{account}/Calls.json"), "at TWILIO_API_BASE_URL");

    // Without a parameter, no calls are placed; a parameter that holds no key fails the init, naming it, never echoing it.
    assert!(dialer_of(&aws, None).await.unwrap().is_none());
    put(&aws, &name, r#"{"accountSid":"AC1","apiKeySid":"SK1","apiKeySecret":"s3cret"}"#).await;
    let err = dialer_of(&aws, Some(&name)).await.err().expect("refused").to_string();
    assert!(err.starts_with(&format!("SSM parameter {name}: accountSid")) && !err.contains("s3cret"), "{err}");
    let missing = format!("{name}-missing");
    let err = dialer_of(&aws, Some(&missing)).await.err().expect("refused").to_string();
    assert!(err.contains(&missing), "{err}");
}

async fn dialer_of(
    aws: &aws_config::SdkConfig,
    parameter: Option<&str>,
) -> Result<Option<calltrack_api::place::Dialer>, lambda_http::Error> {
    dialer(aws, &Settings { twilio_api_key_parameter: parameter.map(str::to_owned), ..Settings::default() }).await
}
