#!/usr/bin/env python3
"""The measuring half of scripts/cold-start (which sets the stage and runs this).

Serves a fake Lambda Runtime API on loopback and cold-starts one function
binary N times against it. Each run: spawn the binary with a Lambda-like
environment, hand it exactly one event on GET /runtime/invocation/next, record
the POST to /runtime/invocation/{id}/response (or /error, /init/error), read the
process's VmHWM (peak RSS) then and once more before it is SIGKILLed. A fresh
Runtime API server (and relay) per run, so that nothing from the run before
(killed mid-request) can be taken for this run's.

Unless --no-proxy, DynamoDB traffic goes through a timestamping TCP relay, so
that init splits into: process start to the first DynamoDB request (runtime,
tracing, settings, aws-config), the DescribeTable warm-up round trip, and the
rest up to the first /next.

    cold-start.py --name answer --binary target/release/answer \
        --event events/answer-known-number.json --expect 200 --runs 20 --log answer.log

Prints one JSON object (all runs and their figures) on stdout; progress on stderr.
Python 3.9+ standard library only.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PREFIX = "/2018-06-01/runtime"


def now_ms():
    return time.monotonic_ns() / 1e6


class Run:
    """What one cold start did, as seen from the Runtime API and the relay."""

    def __init__(self, number, event):
        self.id = f"cold-start-{os.getpid()}-{number}"
        self.event = event
        self.pid = None
        self.t0 = None
        self.first_next = None
        self.nexts = 0
        self.response_at = None
        self.response = None
        self.status_code = None
        self.failure = None
        self.vm_hwm_kb = None
        self.finished = threading.Event()  # a response or an error was posted
        self.stopped = threading.Event()  # the process is gone; parked /next requests end
        self.dynamodb = []  # [request_at, first_response_byte_at] per exchange, in order
        self.lock = threading.Lock()


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, code, payload):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        at = now_ms()
        run = self.server.run
        if self.path != f"{PREFIX}/invocation/next":
            return self.reply(404, {"errorMessage": f"no such path {self.path}"})
        with run.lock:
            run.nexts += 1
            first = run.nexts == 1
            if first:
                run.first_next = at
        if not first:
            # The function is idle, as in Lambda between invocations: park the
            # request until the process is killed.
            run.stopped.wait(60)
            self.close_connection = True
            return None
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(run.event)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", run.id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:cold-start")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
        self.end_headers()
        self.wfile.write(run.event)
        return None

    def do_POST(self):
        body = self.body()
        at = now_ms()
        run = self.server.run
        path = self.path
        if path == f"{PREFIX}/invocation/{run.id}/response":
            run.vm_hwm_kb = vm_hwm_kb(run.pid)
            run.response_at = at
            try:
                run.response = json.loads(body)
                run.status_code = run.response.get("statusCode")
            except ValueError:
                run.failure = f"response is not JSON: {body[:200]!r}"
        elif path == f"{PREFIX}/init/error" or (path.startswith(f"{PREFIX}/invocation/") and path.endswith("/error")):
            run.response_at = at
            run.failure = f"POST {path.removeprefix(PREFIX)}: {body[:500].decode(errors='replace')}"
        else:
            return self.reply(404, {"errorMessage": f"no such path {path}"})
        self.reply(202, {"status": "OK"})
        run.finished.set()
        return None


class Server(ThreadingHTTPServer):
    """One per run, on its own port: a request still in flight from the run
    before (killed mid-request) cannot be taken for this run's."""

    daemon_threads = True

    def __init__(self, run):
        self.run = run
        super().__init__(("127.0.0.1", 0), RuntimeApi)

    def handle_error(self, request, client_address):
        # A killed function drops its connections: not worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def relay(run, upstream_host, upstream_port):
    """A TCP relay to DynamoDB Local for one run, that timestamps each request
    and the first byte of its response (one exchange = client bytes, then
    upstream bytes). Returns the listening socket."""
    listen = socket.socket()
    listen.bind(("127.0.0.1", 0))
    listen.listen(16)

    def pump(src, dst, run, from_client, turn):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                at = now_ms()
                if run is not None:
                    with run.lock:
                        if from_client and turn[0] != "client":
                            run.dynamodb.append([at, None])
                        elif not from_client and turn[0] == "client" and run.dynamodb:
                            run.dynamodb[-1][1] = at
                turn[0] = "client" if from_client else "upstream"
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve():
        while True:
            try:
                client, _ = listen.accept()
            except OSError:  # closed: the run is over
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                upstream = socket.create_connection((upstream_host, upstream_port))
            except OSError:
                client.close()
                continue
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            turn = [None]
            threading.Thread(target=pump, args=(client, upstream, run, True, turn), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, run, False, turn), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listen


def one_run(number, args, env, event, log):
    run = Run(number, event)
    api = Server(run)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server_address[1]}")
    listen = None
    if args.upstream:
        listen = relay(run, *args.upstream)
        env["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://127.0.0.1:{listen.getsockname()[1]}"
    run.t0 = now_ms()
    child = subprocess.Popen([args.binary], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True)
    run.pid = child.pid
    deadline = time.monotonic() + args.timeout
    usage = None
    while not run.finished.wait(0.01):
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status)
            run.failure = run.failure or f"process exited with {code} before answering (see the log)"
            break
        usage = None
        if time.monotonic() > deadline:
            run.failure = f"no response within {args.timeout} s"
            break
    if usage is None:
        # The peak so far; VmHWM read at the response may miss the few
        # allocations after it (the next GET /next).
        run.vm_hwm_kb = max(run.vm_hwm_kb or 0, vm_hwm_kb(child.pid) or 0) or None
        os.kill(child.pid, signal.SIGKILL)
        _, _, usage = os.wait4(child.pid, 0)
    child.returncode = 0  # reaped above
    run.stopped.set()
    api.shutdown()
    api.server_close()
    if listen is not None:
        listen.close()
    if run.failure is None and run.status_code != args.expect:
        run.failure = f"statusCode {run.status_code}, expected {args.expect}"

    figures = {
        "run": number,
        "ok": run.failure is None,
        "failure": run.failure,
        "status": run.status_code,
        "init_ms": None if run.first_next is None else round(run.first_next - run.t0, 3),
        "total_ms": None if run.response_at is None else round(run.response_at - run.t0, 3),
        "invoke_ms": None if run.response_at is None or run.first_next is None else round(run.response_at - run.first_next, 3),
        # VmHWM of the function's own image. Not ru_maxrss: Linux carries the
        # high-water mark of the pre-exec image (the forked Python, ~23 MB) over execve.
        "peak_rss_mb": None if run.vm_hwm_kb is None else round(run.vm_hwm_kb / 1024, 2),
        "cpu_ms": round((usage.ru_utime + usage.ru_stime) * 1000, 1),
        "dynamodb": [[round(a - run.t0, 3), None if b is None else round(b - run.t0, 3)] for a, b in run.dynamodb],
    }
    if run.dynamodb and run.first_next is not None:
        init_exchanges = [x for x in run.dynamodb if x[0] < run.first_next]
        figures["dynamodb_in_init"] = len(init_exchanges)
        figures["dynamodb_in_invoke"] = len(run.dynamodb) - len(init_exchanges)
        if init_exchanges and init_exchanges[0][1] is not None:
            first_request, first_answer = init_exchanges[0]
            figures["to_describe_ms"] = round(first_request - run.t0, 3)
            figures["describe_rtt_ms"] = round(first_answer - first_request, 3)
            figures["after_describe_ms"] = round(run.first_next - first_answer, 3)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="the function's name (AWS_LAMBDA_FUNCTION_NAME)")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--event", required=True, help="an API Gateway HTTP API v2 event, JSON")
    parser.add_argument("--expect", type=int, required=True, help="the statusCode the response must have")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=10, help="runs first, not counted (DynamoDB Local's JIT)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a run may take")
    parser.add_argument("--log", required=True, help="the function's stdout and stderr, appended")
    parser.add_argument("--no-proxy", action="store_true", help="talk to DynamoDB directly: no split of init")
    parser.add_argument("--evict", action="store_true", help="drop the binary from the page cache before each run")
    args = parser.parse_args()

    event = open(args.event, "rb").read()
    json.loads(event)

    env = {k: os.environ[k] for k in ("PATH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                      "TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_PARAMETER", "PUBLIC_BASE_URL",
                                      "CALLS_TABLE", "CALL_EVENTS_TABLE", "TRACKING_NUMBERS_TABLE", "AWS_ENDPOINT_URL_DYNAMODB",
                                      "AWS_ENDPOINT_URL_SSM", "SSL_CERT_FILE", "SSL_CERT_DIR")
           if os.environ.get(k)}
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": f"calltrack-{args.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/calltrack-{args.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "cold-start",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "RUST_LOG": os.environ.get("RUST_LOG", "info"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    })
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    args.upstream = None
    if endpoint and not args.no_proxy:
        upstream = urlsplit(endpoint)
        args.upstream = (upstream.hostname, upstream.port or 80)

    runs = []
    with open(args.log, "ab") as log:
        for number in range(-args.warmup + 1, args.runs + 1):
            if args.evict:
                fd = os.open(args.binary, os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)
            log.write(f"\n==== {args.name} run {number}\n".encode())
            log.flush()
            figures = one_run(number, args, env, event, log)
            if number >= 1:
                runs.append(figures)
            mark = "." if figures["ok"] else "x"
            print(mark, end="", file=sys.stderr, flush=True)
            if not figures["ok"]:
                print(f"\n{args.name} run {number}: {figures['failure']}", file=sys.stderr)
    print(file=sys.stderr)

    def stats(key):
        values = sorted(r[key] for r in runs if r.get(key) is not None)
        if not values:
            return None
        p90 = values[min(len(values) - 1, max(0, -(-9 * len(values) // 10) - 1))]  # nearest rank
        return {"min": values[0], "median": round(statistics.median(values), 3), "p90": p90, "max": values[-1]}

    keys = ("init_ms", "total_ms", "invoke_ms", "peak_rss_mb", "cpu_ms",
            "to_describe_ms", "describe_rtt_ms", "after_describe_ms", "dynamodb_in_init", "dynamodb_in_invoke")
    summary = {
        "function": args.name,
        "binary": args.binary,
        "binary_bytes": os.path.getsize(args.binary),
        "event": args.event,
        "expect": args.expect,
        "runs": len(runs),
        "failures": sum(not r["ok"] for r in runs),
        "statuses": sorted({r["status"] for r in runs if r["status"] is not None}),
        "stats": {k: stats(k) for k in keys},
        "all": runs,
    }
    print(json.dumps(summary))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
