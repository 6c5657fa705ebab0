#!/usr/bin/env python3
"""Writes the API Gateway HTTP API (v2) events that tests/apigw.rs reads.

The signatures are computed here with Python's own hmac, independently of the
Rust signer, over the URL that Twilio would have requested. Run it again after
editing an event: `python3 shared/service/tests/data/apigw/generate.py`.
"""
import base64, hashlib, hmac, json, os, urllib.parse

TOKEN = "test-auth-token-not-a-secret"  # the documented test token, not a real secret
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
PARAMS = [
    ("AccountSid", ACCOUNT), ("ApiVersion", "2010-04-01"), ("CallDuration", "47"),
    ("CallSid", "CA0123456789abcdef0123456789abcdef"), ("CallStatus", "completed"),
    ("CallbackSource", "call-progress-events"), ("Called", "+18005551212"), ("Caller", "+12125550199"),
    ("Direction", "inbound"), ("Duration", "1"), ("From", "+12125550199"), ("SequenceNumber", "3"),
    ("Timestamp", "Tue, 02 Jan 2024 17:03:12 +0000"), ("To", "+18005551212"),
]
FORM = urllib.parse.urlencode(PARAMS)


def sign(url, params):
    text = url + "".join(k + v for k, v in sorted(set(params)))
    return base64.b64encode(hmac.new(TOKEN.encode(), text.encode(), hashlib.sha1).digest()).decode()


def event(domain, stage, raw_path, raw_query, signed_url, body=FORM, content_type="application/x-www-form-urlencoded",
          signed_params=PARAMS, b64=True, route="POST /api/twilio/voice/status"):
    return {
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": {
            "accept": "*/*",
            "cache-control": "max-age=259200",
            "content-length": str(len(body)),
            "content-type": content_type,
            "host": domain,
            "i-twilio-idempotency-token": "6f1f9a5e-1b5e-4a8e-9f1e-3c1c2b8f6d7a",
            "user-agent": "TwilioProxy/1.1",
            "x-amzn-trace-id": "Root=1-65943c10-2c8d4e1f3a6b5c7d8e9f0a1b",
            "x-forwarded-for": "54.172.60.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "x-home-region": "us1",
            "x-twilio-signature": sign(signed_url, signed_params),
        },
        **({"queryStringParameters": dict(urllib.parse.parse_qsl(raw_query))} if raw_query else {}),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {"method": "POST", "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "54.172.60.1",
                     "userAgent": "TwilioProxy/1.1"},
            "requestId": "Qv3pWgJ9IAMEbZw=",
            "routeKey": route,
            "stage": stage,
            "time": "02/Jan/2024:17:03:13 +0000",
            "timeEpoch": 1704214993000,
        },
        "body": base64.b64encode(body.encode()).decode() if b64 else body,
        "isBase64Encoded": b64,
    }


EXECUTE_API = "abc123defg.execute-api.us-east-1.amazonaws.com"
PATH = "/api/twilio/voice/status"
QUERY = "tenant=t1&note=a+b%20c&name=O'Brien&crm_id=%7B42%7D"
JSON_BODY = json.dumps({"CallSid": "CA0123456789abcdef0123456789abcdef", "CallStatus": "completed"})
JSON_QUERY = "bodySHA256=" + hashlib.sha256(JSON_BODY.encode()).hexdigest()

EVENTS = {
    # The $default stage: the execute-api URL has no stage in it.
    "default-stage.json": event(EXECUTE_API, "$default", PATH, "", f"https://{EXECUTE_API}{PATH}"),
    # A named stage is part of rawPath and of the URL Twilio calls.
    "named-stage.json": event(EXECUTE_API, "prod", "/prod" + PATH, "", f"https://{EXECUTE_API}/prod{PATH}"),
    # A custom domain with the base path mapping `twilio`, which rawPath leaves out.
    "custom-domain.json": event("calls.example.com", "$default", PATH, "", f"https://calls.example.com/twilio{PATH}"),
    # A query string that must be kept byte for byte; the body arrives as plain text.
    "raw-query.json": event(EXECUTE_API, "$default", PATH, QUERY, f"https://{EXECUTE_API}{PATH}?{QUERY}", b64=False),
    # JSON: the signature covers the URL, whose bodySHA256 covers the body.
    "json-body.json": event(EXECUTE_API, "$default", PATH, JSON_QUERY, f"https://{EXECUTE_API}{PATH}?{JSON_QUERY}",
                            body=JSON_BODY, content_type="application/json", signed_params=[], b64=False),
}

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for name, ev in EVENTS.items():
        with open(os.path.join(here, name), "w") as f:
            json.dump(ev, f, indent=2)
            f.write("\n")
