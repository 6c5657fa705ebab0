"""Checks a calltrack webhook (Standard Webhooks) with Python's standard library alone.
`python3 verify.py < case.json`, with {"secret","headers","body"}, prints `valid` or `invalid: <reason>`."""
import base64, hashlib, hmac, json, sys, time


def verify(secret: str, headers: dict, body: bytes) -> None:
    """headers: lowercase names; body: the raw bytes as received, before json.loads. Raises ValueError."""
    msg_id, timestamp, signatures = (headers.get(f"webhook-{name}") for name in ("id", "timestamp", "signature"))
    if not (msg_id and timestamp and signatures):
        raise ValueError("missing webhook headers")
    if abs(time.time() - int(timestamp)) > 300:  # refuses replays; int() refuses what is not a number
        raise ValueError("timestamp too old or too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(mac)
    if not any(hmac.compare_digest(s.encode(), expected) for s in signatures.split(" ")):
        raise ValueError("signature does not match")


if __name__ == "__main__":
    case = json.load(sys.stdin)
    try:
        verify(case["secret"], case["headers"], case["body"].encode())
        print("valid")
    except ValueError as e:
        print(f"invalid: {e}")
        sys.exit(1)
