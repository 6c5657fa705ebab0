//! `calltrack numbers connect` against a Prism mock of Twilio's REST API built
//! from Twilio's own OpenAPI description (`scripts/with-prism`): every request
//! the command sends must be one the description allows. The API key comes
//! from the environment or from an SSM SecureString on moto's server.

mod common;

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;
use common::{run_ok, storage_args, text};
use std::process::{Command, Output};

/// The account and number of the description's own examples, which Prism answers with.
const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NUMBER: &str = "+18089255327";
const KEY: &str = "SK0123456789abcdef0123456789abcdef";
const BASE: &str = "https://calls.example.com";

fn api_key() -> [(&'static str, &'static str); 3] {
    [("TWILIO_ACCOUNT_SID", ACCOUNT), ("TWILIO_API_KEY", KEY), ("TWILIO_API_SECRET", "not-a-secret")]
}

/// `calltrack numbers connect` with `env`, and no Twilio settings from the test's own environment but the mock's URL.
fn connect(args: &[&str], storage: &[String], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_calltrack"));
    command.args(["numbers", "connect"]).args(args).args(storage);
    for name in ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_API_KEY_PARAMETER", "PUBLIC_BASE_URL"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).output().expect("calltrack runs")
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

fn error(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_eq!((output.status.code(), stderr.lines().count()), (Some(1), 1), "{}{stderr}", text(&output.stdout));
    stderr
}

/// Tables with the example number as a tracking number, bound to the example account.
fn tables() -> Vec<String> {
    let storage = storage_args();
    run_ok(&["tables", "create"], &storage);
    run_ok(
        &["numbers", "add", NUMBER, "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123", "--account", ACCOUNT],
        &storage,
    );
    storage
}

#[test]
fn dry_run_shows_each_field_as_it_is_and_as_it_becomes() {
    let storage = tables();
    let shown = ok(&connect(&[NUMBER, "--base-url", &format!("{BASE}/"), "--dry-run"], &storage, &api_key()));
    let expected = format!(
        "{NUMBER} (PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, account {ACCOUNT}):\n\
         \x20 VoiceUrl               (none)\n\
         \x20                        -> {BASE}/api/twilio/voice/answer#rc=3&rp=5xx,ct,rt\n\
         \x20 VoiceMethod            POST (unchanged)\n\
         \x20 StatusCallback         (none)\n\
         \x20                        -> {BASE}/api/twilio/voice/status#rc=3&rp=5xx,ct,rt\n\
         \x20 StatusCallbackMethod   POST (unchanged)\n\
         --dry-run: nothing changed\n"
    );
    assert_eq!(shown, expected);
}

#[test]
fn connects_the_number_with_the_stacks_urls() {
    let storage = tables();
    let fallback = "https://handler.twilio.com/twiml/EH0123456789abcdef0123456789abcdef";
    let shown = ok(&connect(&[NUMBER, "--base-url", BASE, "--fallback-url", fallback], &storage, &api_key()));
    assert!(shown.contains(&format!("  VoiceFallbackUrl       (none)\n                         -> {fallback}\n")), "{shown}");
    // Prism answers with the description's example of an updated number, which is this one.
    assert!(
        shown.ends_with(&format!("connected: calls to {NUMBER} now go to {BASE}/api/twilio/voice/answer#rc=3&rp=5xx,ct,rt\n")),
        "{shown}"
    );
}

#[test]
fn the_api_key_comes_from_an_ssm_secure_string() {
    let storage = tables();
    let name = format!("/calltrack/test/{}/twilio-api-key", std::process::id());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let put = |value: &str| {
        runtime.block_on(async {
            let endpoint = std::env::var("AWS_ENDPOINT_URL_SSM").expect("run with `make test`, which starts moto");
            let aws = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
                .endpoint_url(endpoint)
                .load()
                .await;
            let ssm = aws_sdk_ssm::Client::new(&aws);
            ssm.put_parameter().name(&name).r#type(ParameterType::SecureString).value(value).overwrite(true).send().await.unwrap();
        })
    };
    put(&format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{KEY}","apiKeySecret":"not-a-secret"}}"#));
    let from_ssm = [("TWILIO_API_KEY_PARAMETER", name.as_str())];
    let shown = ok(&connect(&[NUMBER, "--base-url", BASE, "--dry-run"], &storage, &from_ssm));
    assert!(shown.ends_with("--dry-run: nothing changed\n"), "{shown}");

    put(&format!(r#"{{"accountSid":"{ACCOUNT}","apiKeySid":"{KEY}"}}"#));
    let stderr = error(&connect(&[NUMBER, "--base-url", BASE], &storage, &from_ssm));
    assert!(
        stderr.starts_with(&format!("error: SSM parameter {name}: not {{")) && stderr.contains("missing field `apiKeySecret`"),
        "{stderr}"
    );

    let missing = [("TWILIO_API_KEY_PARAMETER", "/calltrack/test/no-such-parameter")];
    let stderr = error(&connect(&[NUMBER, "--base-url", BASE], &storage, &missing));
    assert!(stderr.contains("SSM parameter /calltrack/test/no-such-parameter does not exist in this region"), "{stderr}");
}

#[test]
fn each_mistake_is_one_line_saying_what_to_do() {
    let storage = tables();
    let stderr = error(&connect(&[NUMBER, "--base-url", BASE], &storage, &[]));
    assert!(stderr.starts_with("error: no Twilio API key: set --twilio-api-key-parameter"), "{stderr}");
    let stderr = error(&connect(&[NUMBER, "--base-url", BASE], &storage, &api_key()[..2]));
    assert!(stderr.starts_with("error: an incomplete Twilio API key"), "{stderr}");
    let stderr = error(&connect(
        &[NUMBER, "--base-url", BASE],
        &storage,
        &[("TWILIO_ACCOUNT_SID", ACCOUNT), ("TWILIO_API_KEY", ACCOUNT), ("TWILIO_API_SECRET", "x")],
    ));
    assert!(stderr.starts_with("error: the Twilio API key: apiKeySid is not an API key SID"), "{stderr}");
    for (base, why) in [
        (format!("{BASE}/api/twilio/voice/answer"), "--base-url is the stack's ApiBaseUrl output, without /api/…"),
        ("calls.example.com".to_owned(), "--base-url is not an absolute http(s) URL"),
    ] {
        let stderr = error(&connect(&[NUMBER, "--base-url", &base], &storage, &api_key()));
        assert!(stderr.starts_with(&format!("error: {why}")), "{stderr}");
    }

    // Not a tracking number: refused before Twilio is asked (nothing listens on port 9).
    let unreachable = [api_key().as_slice(), &[("TWILIO_API_BASE_URL", "http://127.0.0.1:9")]].concat();
    let stderr = error(&connect(&["+18005550100", "--base-url", BASE], &storage, &unreachable));
    assert!(
        stderr.contains("+18005550100 is not a tracking number in table cli-") && stderr.contains("`calltrack numbers add`"),
        "{stderr}"
    );
    let stderr = error(&connect(&[NUMBER, "--base-url", BASE], &storage, &unreachable));
    assert!(stderr.starts_with(&format!("error: {NUMBER} in Twilio account {ACCOUNT}: cannot reach http://127.0.0.1:9: ")), "{stderr}");

    // A tracking number the account does not have (the mock's list holds only its example).
    run_ok(&["numbers", "add", "+18005551212", "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123"], &storage);
    let stderr = error(&connect(&["+18005551212", "--base-url", BASE], &storage, &api_key()));
    assert!(
        stderr.starts_with(&format!("error: +18005551212 is not a number of Twilio account {ACCOUNT}: ")),
        "the key's own account when unbound: {stderr}"
    );
}
