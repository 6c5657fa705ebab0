//! What a new user meets first (issue 12): every storage, network and
//! signature error in one short line that says what to do, the rotation list
//! `new,old` as the auth token, and `simulate` signing for `PUBLIC_BASE_URL`.

mod common;

use common::{NUMBER, TOKEN, add_number, calltrack, queue_name, serve_with, storage_args, text};
use std::process::{Command, Output};

/// The binary with `env` set and `unset` removed (and no auth token from the test's environment).
fn calltrack_env(args: &[&str], env: &[(&str, &str)], unset: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_calltrack"));
    command.args(args).env_remove("TWILIO_AUTH_TOKEN").env_remove("PUBLIC_BASE_URL");
    for name in unset {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).output().expect("calltrack runs")
}

/// Exit 1 and one short line on stderr; returns that line.
fn one_line_error(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.len() < 300, "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("DispatchFailure") && !stderr.contains("{"), "{stderr}");
    stderr
}

/// No credentials anywhere the SDK looks, and no instance metadata.
const NO_CREDENTIALS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL",
];

#[test]
fn an_empty_endpoint_variable_counts_as_unset() {
    // Credentials and a region set, as on a developer's machine: this is where the SDK panicked.
    // AWS_ENDPOINT_URL keeps the test off the network.
    let env = [
        ("AWS_ENDPOINT_URL_DYNAMODB", ""),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "y"),
    ];
    for args in [&["numbers", "list"][..], &["calls", "list", "--tenant", "acme"], &["tables", "create"]] {
        let stderr = one_line_error(&calltrack_env(args, &env, &[]));
        assert!(stderr.starts_with("error: cannot reach DynamoDB (AWS): connection refused. "), "{args:?}: {stderr}");
    }
}

#[test]
fn dynamodb_down_is_one_short_line_naming_the_endpoint_and_what_to_do() {
    let stderr = one_line_error(&calltrack(&["numbers", "list", "--endpoint-url", "http://127.0.0.1:9"]));
    assert_eq!(
        stderr,
        "error: cannot reach DynamoDB at http://127.0.0.1:9: connection refused. \
         Start DynamoDB Local (make demo does) or unset AWS_ENDPOINT_URL_DYNAMODB to use AWS\n"
    );
}

#[test]
fn no_aws_credentials_is_one_line_saying_how_to_set_them() {
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/calltrack-test"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/calltrack-test"),
    ];
    let stderr = one_line_error(&calltrack_env(&["numbers", "list"], &env, NO_CREDENTIALS));
    assert!(stderr.starts_with("error: DynamoDB (AWS): no AWS credentials found. Set AWS_PROFILE"), "{stderr}");
}

#[test]
fn missing_tables_say_to_create_them() {
    let storage = storage_args();
    let args: Vec<&str> = ["numbers", "list"].into_iter().chain(storage.iter().map(String::as_str)).collect();
    let stderr = one_line_error(&calltrack(&args));
    assert!(stderr.contains(": a table is missing. Create the tables with `calltrack tables create`"), "{stderr}");
}

#[test]
fn signature_verify_says_what_is_wrong() {
    let url = "https://calls.example.com/api/twilio/voice/status";
    let signed = calltrack(&["signature", "sign", "--auth-token", "t0k3n", "--url", url, "--form-body", "CallSid=CA1"]);
    let signature = text(&signed.stdout).trim().to_owned();
    let verify = |url: &str, signature: &str| {
        let output = calltrack(&[
            "signature",
            "verify",
            "--auth-token",
            "t0k3n",
            "--url",
            url,
            "--signature",
            signature,
            "--form-body",
            "CallSid=CA1",
        ]);
        assert_eq!(output.status.code(), Some(if text(&output.stdout) == "valid\n" { 0 } else { 1 }));
        text(&output.stdout)
    };
    assert_eq!(verify(url, &signature), "valid\n");
    assert_eq!(verify(&format!("{url}?x=1"), &signature), "invalid: signature does not match\n");
    for malformed in ["WRONG_SIGNATURE", "abc=", &format!("{signature} "), "dGVzdA=="] {
        assert_eq!(verify(url, malformed), "invalid: malformed signature: not the base64 of a 20-byte HMAC-SHA1\n", "{malformed}");
    }
    for malformed in ["/api/twilio/voice/status", "calls.example.com/api/twilio/voice/status", "https:///api"] {
        assert_eq!(verify(malformed, &signature), "invalid: malformed URL: not an absolute http(s) URL\n", "{malformed}");
    }
}

#[test]
fn sign_takes_the_first_token_of_a_rotation_list() {
    let url = "https://calls.example.com/api/twilio/voice/answer";
    let sign = |token: &str| {
        let output = calltrack(&["signature", "sign", "--auth-token", token, "--url", url, "--form-body", "CallSid=CA1"]);
        assert!(output.status.success(), "{token}: {}", text(&output.stderr));
        text(&output.stdout)
    };
    let new = sign("new");
    assert_eq!(sign("new,old"), new);
    assert_eq!(sign(" new , old\n"), new);
    assert_eq!(sign("AC0123456789abcdef0123456789abcdef=new"), new, "an account's token alone");
    assert_eq!(sign("AC0123456789abcdef0123456789abcdef=sub,new"), new, "a token for any account first");
    // From the environment, as `serve` reads it.
    let output =
        calltrack_env(&["signature", "sign", "--url", url, "--form-body", "CallSid=CA1"], &[("TWILIO_AUTH_TOKEN", "new,old")], &[]);
    assert_eq!(text(&output.stdout), new);
    // A list `serve` would refuse is refused here too, in one line.
    let stderr = one_line_error(&calltrack(&["signature", "sign", "--auth-token", "new,weird=thing", "--url", url]));
    assert!(stderr.starts_with("error: --auth-token: "), "{stderr}");
    for help in [&["signature", "sign", "--help"][..], &["simulate", "--help"]] {
        let shown = text(&calltrack(help).stdout);
        assert!(shown.contains("signs with its first token"), "{help:?}: {shown}");
    }
    assert!(text(&calltrack(&["simulate", "--help"]).stdout).contains("$PUBLIC_BASE_URL"));
}

#[test]
fn verify_takes_a_rotation_list_as_serve_does() {
    let url = "https://calls.example.com/api/twilio/voice/status";
    let signature_by = |token: &str| {
        text(&calltrack(&["signature", "sign", "--auth-token", token, "--url", url, "--form-body", "CallSid=CA1"]).stdout).trim().to_owned()
    };
    let verify = |tokens: &str, signature: &str| {
        let args = ["signature", "verify", "--auth-token", tokens, "--url", url, "--signature", signature, "--form-body", "CallSid=CA1"];
        text(&calltrack(&args).stdout)
    };
    let (new, old) = (signature_by("new"), signature_by("old"));
    assert_eq!(verify("new,old", &new), "valid\n");
    assert_eq!(verify("new,old", &old), "valid\n", "the old token still signs during a rotation");
    assert_eq!(verify("new,other", &old), "invalid: signature does not match\n");
    assert_eq!(verify("AC0123456789abcdef0123456789abcdef=old", &old), "invalid: no auth token for this AccountSid\n");
    let stderr = one_line_error(&calltrack(&["signature", "verify", "--auth-token", "new,weird=thing", "--url", url, "--signature", &new]));
    assert!(stderr.starts_with("error: --auth-token: "), "{stderr}");
}

fn simulate(url: &str, token: &str, env: &[(&str, &str)]) -> Output {
    let args = ["simulate", "--base-url", url, "--auth-token", token, "--to", NUMBER, "--scenario", "busy", "--quiet"];
    calltrack_env(&args, env, &[])
}

#[test]
fn simulate_signs_with_the_first_token_of_a_rotation_list() {
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name()]);
    let output = simulate(&url, &format!("{TOKEN},old-token"), &[]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
}

#[test]
fn simulate_says_why_webhooks_failed() {
    let stderr = one_line_error(&simulate("http://127.0.0.1:9", TOKEN, &[]));
    assert!(
        stderr.contains(" webhooks failed; the first: no answer from http://127.0.0.1:9/api/twilio/voice/")
            && stderr.contains(": connection refused; is the server running at --base-url"),
        "{stderr}"
    );

    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name()]);
    let stderr = one_line_error(&simulate(&url, "not-the-token", &[]));
    assert!(stderr.contains(": 403 from /api/twilio/voice/"), "{stderr}");
    assert!(stderr.contains("the signature was refused; is --auth-token the server's token"), "{stderr}");
}

#[test]
fn simulate_signs_for_public_base_url_from_the_environment() {
    let storage = storage_args();
    add_number(&storage);
    let public = "https://example.ngrok.app";
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name(), "--public-base-url", public]);
    // The README's setup: PUBLIC_BASE_URL set for `serve`, and so for `simulate` too.
    let output = simulate(&url, TOKEN, &[("PUBLIC_BASE_URL", public)]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    // Without it, the signature is for --base-url, which the server does not check.
    let stderr = one_line_error(&simulate(&url, TOKEN, &[]));
    assert!(stderr.contains("403 from") && stderr.contains(&url), "{stderr}");
    // --signed-base-url wins over the environment.
    let output = calltrack_env(
        &[
            "simulate",
            "--base-url",
            &url,
            "--signed-base-url",
            public,
            "--auth-token",
            TOKEN,
            "--to",
            NUMBER,
            "--scenario",
            "busy",
            "--quiet",
        ],
        &[("PUBLIC_BASE_URL", "https://elsewhere.example.com")],
        &[],
    );
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
}

/// `calltrack smoke` with these storage options and extra arguments.
fn smoke(url: &str, storage: &[String], extra: &[&str]) -> Output {
    let mut args = vec!["smoke", "--base-url", url, "--auth-token", TOKEN, "--to", NUMBER];
    args.extend(storage.iter().map(String::as_str));
    args.extend(extra);
    calltrack_env(&args, &[], &[])
}

fn json(storage: &[String], args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&common::run_ok(args, storage)).unwrap()
}

#[test]
fn smoke_refuses_a_number_that_is_not_a_tracking_number_before_sending_anything() {
    let storage = storage_args();
    common::run_ok(&["tables", "create"], &storage);
    // Nothing listens on port 9: the refusal comes before any webhook would be sent.
    let stderr = one_line_error(&smoke("http://127.0.0.1:9", &storage, &[]));
    assert!(stderr.contains(&format!("{NUMBER} is not a tracking number in table cli-")), "{stderr}");
    assert!(stderr.contains("add it with `calltrack numbers add`"), "{stderr}");
}

#[test]
fn smoke_plays_a_call_checks_it_and_leaves_nothing_behind() {
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name()]);
    let output = smoke(&url, &storage, &[]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.starts_with(&format!("{NUMBER}: tenant acme, user jane, forwarded to +14155550123")), "{stdout}");
    assert!(stdout.contains("verified 1 calls: 1 as sent, 0 lost, 0 wrong"), "{stdout}");
    assert!(stdout.contains(" and its 7 events\nsmoke test passed\n"), "{stdout}");
    assert_eq!(json(&storage, &["calls", "list", "--tenant", "acme", "--json"]), serde_json::json!([]), "nothing left");

    // A number bound to its Twilio account takes only that account's calls: the smoke call is in it.
    let account = "AC0123456789abcdef0123456789abcdef";
    common::run_ok(
        &["numbers", "add", NUMBER, "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123", "--account", account],
        &storage,
    );
    let output = smoke(&url, &storage, &["--keep"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let calls = json(&storage, &["calls", "list", "--tenant", "acme", "--json"]);
    assert_eq!((calls[0]["accountSid"].as_str(), calls[0]["attributed"].as_bool()), (Some(account), Some(true)));
    common::run_ok(&["calls", "delete", calls[0]["callSid"].as_str().unwrap(), "--tenant", "acme"], &storage);

    // A failed smoke test cleans up too, and says why it failed.
    let stderr = one_line_error(&calltrack_env(
        &[
            &["smoke", "--base-url", &url, "--auth-token", "not-the-token", "--to", NUMBER][..],
            &storage.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
        &[],
        &[],
    ));
    assert!(stderr.contains("403 from"), "{stderr}");
    assert_eq!(json(&storage, &["calls", "list", "--tenant", "acme", "--json"]), serde_json::json!([]));
}

#[test]
fn calls_show_lists_events_in_the_order_they_came_and_only_the_read_model() {
    let storage = storage_args();
    add_number(&storage);
    let (_server, url) = serve_with(&storage, &["--queue-name", &queue_name()]);
    let output = smoke(&url, &storage, &["--keep"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let calls = json(&storage, &["calls", "list", "--tenant", "acme", "--json"]);
    let sid = calls[0]["callSid"].as_str().unwrap().to_owned();
    assert!(text(&output.stdout).contains(&format!("kept {sid}: ")));

    let shown = json(&storage, &["calls", "show", &sid, "--json"]);
    let events: Vec<(String, String)> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["status"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("answer", "ringing"),
        ("status", "initiated"),
        ("status", "ringing"),
        ("status", "no-answer"),
        ("dial", "no-answer"),
        ("recording", "completed"),
        ("status", "completed"),
    ];
    assert_eq!(events, expected.map(|(k, s)| (k.to_owned(), s.to_owned())), "Twilio's order, as sent");
    // The read model's fields and nothing of storage's (no version, index keys or progress bits).
    let mut fields: Vec<&str> = shown.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "accountSid",
            "answered",
            "attributed",
            "callSid",
            "callerCity",
            "callerName",
            "callerState",
            "createdAt",
            "crm",
            "dialCallSid",
            "dialStatus",
            "direction",
            "dispositionHistory",
            "durationSeconds",
            "endedAt",
            "events",
            "firstTimeCaller",
            "forwarded",
            "fromNumber",
            "leadSource",
            "leadStatus",
            "minTalkSeconds",
            "note",
            "placementError",
            "priorCalls",
            "qualificationReason",
            "qualified",
            "recording",
            "startedAt",
            "status",
            "tags",
            "talkSeconds",
            "tenantId",
            "toNumber",
            "trackingNumber",
            "updatedAt",
            "userId",
            "value",
            "verdict",
            "voicemail",
        ]
    );

    // Deleting is scoped to the call's tenant: another's is told there is no such call.
    let stderr = one_line_error(&calltrack_env(
        &[&["calls", "delete", &sid, "--tenant", "other"][..], &storage.iter().map(String::as_str).collect::<Vec<_>>()].concat(),
        &[],
        &[],
    ));
    assert_eq!(stderr, format!("error: no call {sid} in tenant other\n"));
    assert_eq!(common::run_ok(&["calls", "delete", &sid, "--tenant", "acme"], &storage), format!("deleted {sid} and its 7 events\n"));
    let gone = calltrack_env(&[&["calls", "show", &sid][..], &storage.iter().map(String::as_str).collect::<Vec<_>>()].concat(), &[], &[]);
    assert_eq!(text(&gone.stderr), format!("error: no call {sid}\n"));
}
