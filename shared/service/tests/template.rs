//! template.yaml against the code and the README: every route is deployed for
//! both methods Twilio can use, every setting the README documents reaches the
//! functions from a template parameter, and the URLs to paste into Twilio
//! honour `PublicBaseUrl` and carry the connection overrides.

use calltrack_service::Route;
use calltrack_service::route::CONNECTION_OVERRIDES;
use serde_norway::Value;
use serde_norway::value::TaggedValue;

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn template() -> Value {
    serde_norway::from_str(&read("template.yaml")).unwrap()
}

/// A CloudFormation intrinsic (`!Ref X`, `!Sub "…"`, `!If [...]`): its name and argument.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let TaggedValue { tag, value } = tagged.as_ref();
            Some((tag.to_string().trim_start_matches('!').to_owned(), value))
        }
        _ => None,
    }
}

fn functions(template: &Value) -> Vec<&Value> {
    let resources = template["Resources"].as_mapping().unwrap();
    resources.values().filter(|r| r["Type"] == "AWS::Serverless::Function").collect()
}

#[test]
fn every_route_is_deployed_for_post_and_get() {
    let template = template();
    let mut deployed = Vec::new();
    for function in functions(&template) {
        for event in function["Properties"]["Events"].as_mapping().into_iter().flat_map(|m| m.values()) {
            if event["Type"] == "HttpApi" {
                let properties = &event["Properties"];
                deployed.push((properties["Method"].as_str().unwrap().to_owned(), properties["Path"].as_str().unwrap().to_owned()));
            }
        }
    }
    for route in Route::ALL {
        for method in ["POST", "GET"] {
            assert!(deployed.contains(&(method.to_owned(), route.path().to_owned())), "{method} {} is not deployed", route.path());
        }
    }
}

#[test]
fn the_api_routes_need_a_token_and_the_webhooks_none() {
    let template = template();
    let mut api_routes = 0;
    for function in functions(&template) {
        for event in function["Properties"]["Events"].as_mapping().into_iter().flat_map(|m| m.values()) {
            let properties = &event["Properties"];
            let Some(path) = properties["Path"].as_str() else { continue };
            let authorizer = properties["Auth"]["Authorizer"].as_str();
            if path.starts_with("/api/twilio/") {
                assert_eq!(authorizer, None, "{path}: Twilio signs its webhooks; it sends no token");
            } else if path == "/api/openapi.json" {
                assert_eq!(authorizer, None, "{path}: the description is public, as a client reads it before it has a token");
            } else {
                assert_eq!(authorizer, Some("Jwt"), "{path} is open to anyone without the JWT authorizer");
                api_routes += 1;
            }
        }
    }
    assert!(api_routes >= 2);
    assert!(
        template["Resources"]["Api"]["Properties"]["Auth"].get("DefaultAuthorizer").is_none(),
        "a default would cover the webhooks too"
    );
}

#[test]
fn every_documented_setting_comes_from_a_template_parameter() {
    let readme = read("README.md");
    let table = readme.split("\n## Configuration\n").nth(1).unwrap().split("\n## ").next().unwrap();
    let documented: Vec<&str> = table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| line.split('|').nth(1).unwrap().split('`').skip(1).step_by(2))
        .collect();
    assert!(documented.len() >= 15, "{documented:?}");

    let template = template();
    let parameters = template["Parameters"].as_mapping().unwrap();
    let globals = template["Globals"]["Function"]["Environment"]["Variables"].as_mapping().unwrap();
    let per_function = functions(&template).into_iter().filter_map(|f| f["Properties"]["Environment"]["Variables"].as_mapping());
    let declared: Vec<(&str, &Value)> =
        [globals].into_iter().chain(per_function).flat_map(|vars| vars.iter().map(|(k, v)| (k.as_str().unwrap(), v))).collect();
    // Set from the stack's own resources, or left empty on purpose (the token is read from SSM).
    let from_resources =
        ["CALLS_TABLE", "CALL_EVENTS_TABLE", "TRACKING_NUMBERS_TABLE", "CALL_INDEX_TABLE", "CALLBACK_QUEUE_URL", "TWILIO_AUTH_TOKEN"]
            .into_iter()
            .chain(["RECORDING_BUCKET", "WEBHOOK_QUEUE_URL"])
            .collect::<Vec<_>>();
    for variable in documented {
        let (_, value) =
            declared.iter().find(|(name, _)| *name == variable).unwrap_or_else(|| panic!("template.yaml never sets {variable}"));
        if from_resources.contains(&variable) {
            continue;
        }
        let parameter = match intrinsic(value) {
            Some((tag, Value::String(name))) if tag == "Ref" => name.clone(),
            other => panic!("{variable} is not `!Ref <Parameter>` but {other:?}"),
        };
        assert!(parameters.contains_key(parameter.as_str()), "{variable}: no parameter {parameter}");
    }
}

#[test]
fn the_urls_to_paste_honour_public_base_url_and_carry_the_overrides() {
    let template = template();
    let outputs = &template["Outputs"];
    for (output, route, overrides) in [
        ("VoiceUrl", Route::Answer, true),
        ("StatusCallbackUrl", Route::Status, true),
        ("DialResultUrl", Route::DialResult, false),
        ("RecordingCallbackUrl", Route::Recording, false),
    ] {
        let (tag, args) = intrinsic(&outputs[output]["Value"]).unwrap();
        let args = args.as_sequence().unwrap();
        assert_eq!((tag.as_str(), args[0].as_str()), ("If", Some("HasPublicBaseUrl")), "{output}");
        let sub = |value: &Value| match intrinsic(value) {
            Some((tag, Value::String(text))) if tag == "Sub" => text.clone(),
            other => panic!("{output}: not a !Sub but {other:?}"),
        };
        let suffix = if overrides { route.twilio_url("") } else { route.path().to_owned() };
        assert_eq!(suffix.ends_with(&format!("#{CONNECTION_OVERRIDES}")), overrides, "{output}");
        assert_eq!(sub(&args[1]), format!("${{PublicBaseUrl}}{suffix}"), "{output} under PublicBaseUrl");
        assert_eq!(sub(&args[2]), format!("https://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}{suffix}"), "{output}");
    }
}

#[test]
fn the_webhook_queue_takes_one_attempt_more_than_the_backoff_has_waits() {
    let template = template();
    let redrive = &template["Resources"]["WebhookQueue"]["Properties"]["RedrivePolicy"];
    let receives = redrive["maxReceiveCount"].as_u64().unwrap();
    let waits = calltrack_service::Settings::default().webhook_backoff;
    assert_eq!(receives, waits.len() as u64 + 1, "an attempt after each wait, then the dead-letter queue");
    let hours = waits.iter().map(|w| w.as_secs_f64()).sum::<f64>() / 3600.0;
    assert!(hours >= 24.0, "retried for at least a day: {hours:.1} h");
}

#[test]
fn the_functions_that_copy_recordings_are_given_the_key_and_the_bucket() {
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    for function in ["DispatchFunction", "ReplayFunction", "ApiFunction"] {
        let own = &template["Resources"][function]["Properties"]["Environment"]["Variables"];
        for variable in ["TWILIO_API_KEY_PARAMETER", "RECORDING_BUCKET"] {
            let set = own.get(variable).or_else(|| globals.get(variable));
            assert!(set.is_some(), "{function} is not given {variable}: it would copy no recording");
        }
    }
}
