//! The api function's Twilio API key comes from an SSM SecureString
//! (`TWILIO_API_KEY_PARAMETER`), read once at init. Tested against moto's
//! server, which speaks SSM (`make test` starts it and sets AWS_ENDPOINT_URL_SSM).

use aws_sdk_ssm::types::ParameterType;
use calltrack_api::lambda::dialer;
use calltrack_service::Settings;
use calltrack_twilio_api::testing::{Answer, FakeTwilio, call_to_place};

async fn put(aws: &aws_config::SdkConfig, name: &str, value: &str) {
    let ssm = aws_sdk_ssm::Client::new(aws);
    ssm.put_parameter().name(name).r#type(ParameterType::SecureString).value(value).overwrite(true).send().await.unwrap();
}

#[tokio::test]
async fn the_api_key_is_read_from_a_secure_string_and_places_calls_in_its_account() {
    let aws = calltrack_service::testing::moto_ssm().await;
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
    let placed = dialer.twilio.place_call(dialer.twilio.account_sid(), &call_to_place(), &dialer.retry).await.unwrap();
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
