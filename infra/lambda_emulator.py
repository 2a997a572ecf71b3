"""A minimal Lambda Runtime API (the 2018-06-01 interface the runtime crates speak), to
measure each function binary from process start to its first answered event, then the same
event again on the warm process (hand-out to answer), and its peak RSS. Used by
infra/startup-figures.sh; prints one line per binary, the median of RUNS samples taken
round-robin across the binaries.

usage: lambda_emulator.py RUNS BINARY EVENT_JSON [BINARY EVENT_JSON ...]

With WARM_DYNAMODB_URL set, each sample is preceded by one ListTables to that endpoint (moto
on loopback): a stand-in that sat idle while the previous sample ran answers its next request
about 0.9 ms slower (its interpreter's caches gone cold), which real DynamoDB, never idle,
does not. The request is answered before the clock starts.
"""
import http.client
import http.server
import urllib.parse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

API = "/2018-06-01/runtime"


def warm_dynamodb(url):
    """One unsigned ListTables (moto does not check signatures), answered in full."""
    endpoint = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
    connection.request("POST", "/", body="{}", headers={
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    })
    answer = connection.getresponse()
    answer.read()
    connection.close()
    if answer.status != 200:
        raise SystemExit(f"{url}: ListTables answered {answer.status}")


def measure(binary, event):
    done = threading.Event()
    state = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            served = state.get("served", 0)
            if self.path == f"{API}/invocation/next" and served < 2:
                state["served"] = served + 1
                state[f"handed{served}"] = time.perf_counter()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", f"req-{served + 1}")
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                time.sleep(5)  # the next invocation never comes
                self.send_response(500)
                self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            answer = self.rfile.read(length)
            n = state.get("answers", 0)
            state["answers"] = n + 1
            state[f"at{n}"] = time.perf_counter()
            if n == 0:
                state["answer"] = answer
                state["kind"] = self.path.rsplit("/", 1)[-1]
                try:  # an HTTP function's answer says its status
                    status = json.loads(answer).get("statusCode")
                    if status is not None:
                        state["kind"] += f" {status}"
                except (ValueError, AttributeError):
                    pass
            self.send_response(202)
            self.end_headers()
            if n == 1:
                done.set()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary),
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "g",
        "AWS_LAMBDA_LOG_STREAM_NAME": "s",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TABLE_NAME": "market",
        "PAYMENTS_QUEUE_URL": "http://127.0.0.1:9/queue/payments",
        "DEADLINES_QUEUE_URL": "http://127.0.0.1:9/queue/deadlines",
        "RUST_LOG": os.environ.get("EMULATOR_OUTPUT") and "info" or "off",
    })
    if os.environ.get("WARM_DYNAMODB_URL"):
        warm_dynamodb(os.environ["WARM_DYNAMODB_URL"])
    started = time.perf_counter()
    quiet = None if os.environ.get("EMULATOR_OUTPUT") else subprocess.DEVNULL
    process = subprocess.Popen([binary], env=env, stdout=quiet, stderr=quiet)
    answered = done.wait(30)
    rss_kb = 0
    try:
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    rss_kb = int(line.split()[1])
    except FileNotFoundError:
        pass
    process.kill()
    process.wait()
    server.shutdown()
    if not answered:
        raise SystemExit(f"{binary}: no answer within 30 s")
    first = (state["at0"] - started) * 1000.0
    warm = (state["at1"] - state["handed1"]) * 1000.0
    return first, rss_kb / 1024.0, state["kind"], warm


def main():
    runs = int(sys.argv[1])
    pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
    events = [json.load(open(event_file)) for _, event_file in pairs]
    # Round-robin: sample i of every binary is taken in the same stretch of time, so that a
    # host whose load drifts during the run moves hello's figures and the others' alike.
    samples = [[] for _ in pairs]
    for _ in range(runs):
        for i, (binary, _) in enumerate(pairs):
            samples[i].append(measure(binary, events[i]))
    rows = []
    for (binary, event_file), taken in zip(pairs, samples):
        ms = statistics.median(s[0] for s in taken)
        rss = max(s[1] for s in taken)
        warm = statistics.median(s[3] for s in taken)
        label = os.environ.get("LABEL_" + os.path.basename(event_file).split(".")[0].replace("-", "_"))
        rows.append((label or os.path.basename(binary), ms, rss, taken[0][2], warm))
    base = rows[0][1]
    print(f"{'binary':<22} {'start→first answer':>20} {'× hello':>8} {'warm answer':>12} {'peak RSS':>10}  answer")
    for name, ms, rss, kind, warm in rows:
        print(f"{name:<22} {ms:>17.1f} ms {ms / base:>8.2f} {warm:>9.2f} ms {rss:>7.1f} MB  {kind}")


if __name__ == "__main__":
    main()
