//! The `calltrack` binary as users run it: help for every command, signature
//! verification against Twilio's vectors, clear one-line errors, and the
//! end-to-end path serve + simulate + calls show on DynamoDB Local.

mod common;

use common::{calltrack, run_ok, serve, storage_args, text};
use serde::Deserialize;

#[test]
fn every_command_has_help() {
    // Walks the commands each help lists, so a new one is checked without being named here.
    let mut seen = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(command) = todo.pop() {
        let args: Vec<&str> = command.iter().map(String::as_str).chain(["--help"]).collect();
        let output = calltrack(&args);
        let help = text(&output.stdout);
        assert!(output.status.success() && help.contains("Usage: calltrack"), "{command:?}: {}", text(&output.stderr));
        let listed = help.split("\nCommands:\n").nth(1).map(|rest| rest.split("\n\n").next().unwrap_or_default());
        for line in listed.unwrap_or_default().lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                todo.push([command.clone(), vec![name.to_owned()]].concat());
            }
        }
        seen.push(command.join(" "));
    }
    for expected in ["serve", "numbers add", "calls delete", "calls erase", "simulate", "smoke", "signature verify"] {
        assert!(seen.iter().any(|c| c == expected), "{expected} in {seen:?}");
    }
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    auth_token: String,
    method: String,
    content_type: String,
    url: String,
    form_body: Option<String>,
    body: Option<String>,
    signature: String,
    #[serde(default)]
    headers: std::collections::HashMap<String, String>,
    expected_valid: bool,
}

#[test]
fn signature_verify_agrees_with_every_official_vector() {
    let vectors: Vec<Vector> =
        include_str!("../../shared/twilio/tests/data/signature-vectors.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(vectors.len(), 43);
    for v in &vectors {
        let mut args =
            vec!["signature", "verify", "--auth-token", &v.auth_token, "--url", &v.url, "--signature", &v.signature, "--method", &v.method];
        match v.content_type.as_str() {
            "form" => args.extend(["--form-body", v.form_body.as_deref().unwrap_or_default()]),
            "json" => args.extend(["--json-body", v.body.as_deref().unwrap_or_default()]),
            _ => {}
        }
        if let Some(settings) = v.headers.get("X-Twilio-Webhooks-Signature-Settings") {
            args.extend(["--settings", settings]);
        }
        let output = calltrack(&args);
        let stdout = text(&output.stdout);
        if v.expected_valid {
            assert_eq!((output.status.code(), stdout.as_str()), (Some(0), "valid\n"), "{}", v.name);
        } else {
            assert_eq!(output.status.code(), Some(1), "{}", v.name);
            assert!(stdout.starts_with("invalid: "), "{}: {stdout}", v.name);
        }
    }
}

#[test]
fn sign_then_verify_and_usage_errors() {
    let url = "https://calls.example.com/api/twilio/voice/status";
    let signed = calltrack(&["signature", "sign", "--auth-token", "t0k3n", "--url", url, "--form-body", "CallSid=CA1&To=%2B1"]);
    let signature = text(&signed.stdout).trim().to_owned();
    assert_eq!(signature.len(), 28);
    let verify = |body: &str| {
        calltrack(&["signature", "verify", "--auth-token", "t0k3n", "--url", url, "--signature", &signature, "--form-body", body])
    };
    assert_eq!(text(&verify("CallSid=CA1&To=%2B1").stdout), "valid\n");
    let tampered = verify("CallSid=CA2&To=%2B1");
    assert_eq!((tampered.status.code(), text(&tampered.stdout)), (Some(1), "invalid: signature does not match\n".to_owned()));
    // Usage errors exit 2.
    assert_eq!(calltrack(&["signature", "verify", "--url", url]).status.code(), Some(2));
    assert_eq!(
        calltrack(&["signature", "verify", "--auth-token", "t", "--url", url, "--signature", "x", "--method", "PUT"]).status.code(),
        Some(2)
    );
}

#[test]
fn unreachable_dynamodb_is_one_line_naming_the_endpoint() {
    let output = calltrack(&["numbers", "list", "--endpoint-url", "http://127.0.0.1:9"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: cannot reach DynamoDB at http://127.0.0.1:9: "), "{stderr}");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for args in [
        &[
            "numbers",
            "add",
            "555-0123",
            "--tenant",
            "t",
            "--user",
            "u",
            "--forward-to",
            "+14155550123",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ][..],
        &["numbers", "add", "+18005551212", "--tenant", "t", "--user", "u", "--forward-to", "nope", "--endpoint-url", "http://127.0.0.1:9"],
        &["calls", "show", "not-a-sid", "--endpoint-url", "http://127.0.0.1:9"],
        &["calls", "list", "--tenant", "t", "--since", "yesterday"],
        &["calls", "list", "--tenant", "a#b", "--endpoint-url", "http://127.0.0.1:9"],
        &["calls", "erase", "--from", "555-0123", "--endpoint-url", "http://127.0.0.1:9"],
        &["calls", "erase", "--endpoint-url", "http://127.0.0.1:9"],
        &["simulate", "--base-url", "http://127.0.0.1:9", "--auth-token", "t", "--to", "12345"],
    ] {
        let output = calltrack(args);
        let stderr = text(&output.stderr);
        assert!(matches!(output.status.code(), Some(1 | 2)), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn serve_simulate_and_show_every_scenario_shuffled_and_duplicated() {
    let storage = storage_args();
    run_ok(&["tables", "create"], &storage);
    run_ok(
        &["numbers", "add", "+18005551212", "--tenant", "acme", "--user", "jane", "--forward-to", "+14155550123", "--source", "Google Ads"],
        &storage,
    );
    let (_server, url) = serve(&storage);

    // scenario, qualified, reason, voicemail, recorded
    let scenarios = [
        ("answered", true, "qualified: talked 45 s", false, true),
        ("short", false, "too short: 12 s < 30 s", false, true),
        ("no-answer", false, "not answered: no-answer", false, false),
        ("voicemail", false, "not answered: no-answer", true, true),
        ("busy", false, "not answered: busy", false, false),
    ];
    for (scenario, qualified, reason, voicemail, recorded) in scenarios {
        let before: Vec<serde_json::Value> =
            serde_json::from_str(&run_ok(&["calls", "list", "--tenant", "acme", "--json"], &storage)).unwrap();
        let summary = run_ok(
            &[
                "simulate",
                "--base-url",
                &url,
                "--auth-token",
                "test-auth-token-not-a-secret",
                "--to",
                "+18005551212",
                "--scenario",
                scenario,
                "--shuffle",
                "--duplicates",
                "2",
                "--calls",
                "2",
                "--concurrency",
                "2",
                "--quiet",
            ],
            &[],
        );
        assert!(summary.contains(" webhooks in "), "{summary}");
        let after: Vec<serde_json::Value> =
            serde_json::from_str(&run_ok(&["calls", "list", "--tenant", "acme", "--json"], &storage)).unwrap();
        assert_eq!(after.len(), before.len() + 2, "{scenario}: two new calls");
        let new: Vec<&serde_json::Value> = after.iter().filter(|c| !before.iter().any(|b| b["callSid"] == c["callSid"])).collect();
        for call in new {
            let sid = call["callSid"].as_str().unwrap();
            let shown: serde_json::Value = serde_json::from_str(&run_ok(&["calls", "show", sid, "--json"], &storage)).unwrap();
            assert_eq!(shown["tenantId"], "acme", "{scenario}");
            assert_eq!(shown["userId"], "jane");
            assert_eq!(shown["trackingNumber"], "+18005551212");
            assert_eq!(shown["leadSource"], "Google Ads");
            assert_eq!(shown["fromNumber"], "+15005550006");
            assert_eq!(shown["direction"], "inbound");
            assert_eq!(shown["status"], "completed", "{scenario}");
            assert_eq!(shown["attributed"], true);
            assert_eq!(shown["qualified"], qualified, "{scenario}");
            assert_eq!(shown["qualificationReason"], reason, "{scenario}");
            assert_eq!(shown["voicemail"], voicemail, "{scenario}");
            assert_eq!(shown["recording"]["sid"].is_string(), recorded, "{scenario}");
            for field in ["answered", "startedAt", "durationSeconds", "talkSeconds", "recording", "crm"] {
                assert!(shown.get(field).is_some(), "{scenario}: {field}");
            }
            // Shuffled, a parent status may come before the answer and fill in the owner itself (an `owner` event).
            let events: Vec<&serde_json::Value> = shown["events"].as_array().unwrap().iter().filter(|e| e["kind"] != "owner").collect();
            let expected_events = match scenario {
                "answered" | "short" => 8,
                "voicemail" => 7,
                _ => 6,
            };
            assert_eq!(events.len(), expected_events, "{scenario}: one event per distinct callback, duplicates dropped");
            for event in events {
                for field in ["kind", "status", "sequenceNumber", "receivedAt"] {
                    assert!(event.get(field).is_some(), "{scenario}: event {field}");
                }
            }
        }
    }
    let table = run_ok(&["calls", "list", "--tenant", "acme", "--qualified"], &storage);
    assert_eq!(table.lines().count(), 1 + 2, "a header and the two answered calls:\n{table}");
}

#[test]
fn erase_takes_one_callers_calls_and_events_and_nobody_elses() {
    let storage = storage_args();
    common::add_number(&storage);
    let (_server, url) = serve(&storage);
    let simulate = |from: &str, calls: &str| {
        let args = ["simulate", "--base-url", &url, "--auth-token", common::TOKEN, "--to", common::NUMBER, "--from", from];
        run_ok(&[&args[..], &["--scenario", "answered", "--calls", calls, "--quiet"]].concat(), &[])
    };
    simulate("+12125550199", "2");
    simulate("+13105550142", "1");
    let list =
        || -> Vec<serde_json::Value> { serde_json::from_str(&run_ok(&["calls", "list", "--tenant", "acme", "--json"], &storage)).unwrap() };
    let from = |calls: &[serde_json::Value], number: &str| -> Vec<String> {
        calls.iter().filter(|c| c["fromNumber"] == number).map(|c| c["callSid"].as_str().unwrap().to_owned()).collect()
    };
    let before = list();
    let (erased, kept) = (from(&before, "+12125550199"), from(&before, "+13105550142"));
    assert_eq!((erased.len(), kept.len()), (2, 1));
    let events = |sid: &str| -> usize {
        let shown: serde_json::Value = serde_json::from_str(&run_ok(&["calls", "show", sid, "--json"], &storage)).unwrap();
        shown["events"].as_array().unwrap().len()
    };
    let erased_events: usize = erased.iter().map(|sid| events(sid)).sum();
    let kept_events = events(&kept[0]);

    // --dry-run lists them and erases nothing.
    let dry = run_ok(&["calls", "erase", "--from", "+12125550199", "--dry-run"], &storage);
    assert!(erased.iter().all(|sid| dry.contains(sid.as_str())) && !dry.contains(kept[0].as_str()), "{dry}");
    assert!(dry.contains("acme"), "{dry}");
    assert!(dry.ends_with("would erase 2 calls from +12125550199, and their events (--dry-run: nothing erased)\n"), "{dry}");
    assert_eq!(list().len(), 3);

    // Their recordings in our bucket go too (moto's S3), and the other caller's stay.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bucket = runtime.block_on(calltrack_s3::testing::bucket());
    let put = |tenant: Option<&str>, sid: &str| {
        let key = format!("{}RE0123456789abcdef0123456789abcdef.mp3", calltrack_core::copy::recordings_of(tenant, sid));
        let audio = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"ID3"))]);
        runtime.block_on(bucket.put_stream(&key, "audio/mpeg", audio)).unwrap();
        key
    };
    let (first, copied_unowned, other) = (put(Some("acme"), &erased[0]), put(None, &erased[1]), put(Some("acme"), &kept[0]));
    let done = run_ok(&["calls", "erase", "--from", "+12125550199", "--recording-bucket", bucket.bucket()], &storage);
    let erased_line = format!("erased 2 calls, {erased_events} events and 2 recordings (s3://{}) from +12125550199\n", bucket.bucket());
    assert!(done.ends_with(&erased_line), "{done}");
    let stored = |key: &str| runtime.block_on(bucket.contains(key)).unwrap();
    assert_eq!((stored(&first), stored(&copied_unowned), stored(&other)), (false, false, true));
    let after = list();
    assert_eq!(from(&after, "+12125550199"), Vec::<String>::new());
    assert_eq!(from(&after, "+13105550142"), kept);
    assert_eq!(events(&kept[0]), kept_events, "the other caller's events are all there");
    for sid in &erased {
        let output = calltrack(&[&["calls", "show", sid.as_str()][..], &storage.iter().map(String::as_str).collect::<Vec<_>>()].concat());
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(text(&output.stderr), format!("error: no call {sid}\n"));
    }
    // Again: nothing left.
    let again = run_ok(&["calls", "erase", "--from", "+12125550199"], &storage);
    assert_eq!(again, "erased 0 calls and 0 events from +12125550199 (recordings in a bucket are kept: name it with --recording-bucket)\n");
}
