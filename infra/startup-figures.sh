#!/usr/bin/env bash
# Start-up and size figures: each function binary (release profile, host architecture) from
# process start to its first answered event through a local Lambda Runtime API emulation
# (infra/lambda_emulator.py), next to a hello-world lambda_runtime binary built the same way,
# with peak RSS. The events need no network: an init that called out would show here.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-7}

cargo build --release -q -p fn-list -p fn-order -p fn-pay-callback -p fn-push -p fn-expire-sweeper -p fn-admin -p fn-account -p fn-notify -p infra

events=target/startup-events
mkdir -p "$events"
python3 - "$events" <<'PY'
import json, sys, copy
out = sys.argv[1]
base = json.load(open("tests/fixtures/events/apigw-v2-jwt-request.json"))
def http(name, method, path):
    e = copy.deepcopy(base)
    e["rawPath"] = path; e["routeKey"] = f"{method} {path}"
    e["requestContext"]["http"]["method"] = method; e["requestContext"]["http"]["path"] = path
    e["requestContext"]["authorizer"] = None
    json.dump(e, open(f"{out}/{name}.json", "w"))
http("list", "GET", "/listings/not-an-id")
http("order", "GET", "/orders/not-an-id")
http("pay-notify", "GET", "/payments/alipay/notify")
http("push", "GET", "/pushes/not-an-id")
http("admin", "PUT", "/admin/fees")
http("account", "GET", "/me/ledger")
json.dump({"Records": []}, open(f"{out}/pay-callback.json", "w"))
json.dump({"Records": []}, open(f"{out}/notify.json", "w"))
sqs = json.load(open("tests/fixtures/events/sqs-payments-batch.json"))
sqs["Records"] = sqs["Records"][1:2]
sqs["Records"][0]["body"] = "not an order id"
json.dump(sqs, open(f"{out}/expire-sweeper.json", "w"))
json.dump({"detail-type": "DomainLifecycle", "source": "registrar.core", "detail": {"domain": "-", "type": "deleted"}}, open(f"{out}/registry-events.json", "w"))
json.dump({"hello": "event"}, open(f"{out}/hello-lambda.json", "w"))
PY

args=(target/release/hello-lambda "$events/hello-lambda.json")
for b in list order pay-notify pay-callback push expire-sweeper admin registry-events account notify; do
  args+=("target/release/$b" "$events/$b.json")
done
python3 infra/lambda_emulator.py "$runs" "${args[@]}"
echo
echo "sizes (host release: lto, 1 codegen unit, stripped, opt-level s)"
for b in hello-lambda list order pay-notify pay-callback push expire-sweeper admin registry-events account notify; do
  printf '%-16s %8s bytes\n' "$b" "$(stat -c %s "target/release/$b")"
done
