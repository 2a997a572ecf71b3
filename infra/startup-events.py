"""The events infra/startup-figures.sh and infra/functions-start.sh hand each function
binary: one per function, each answerable without any network (an init or a handler that
called out would show as a slow or missing answer).

usage: startup-events.py OUT_DIR
"""
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
json.dump({"Records": []}, open(f"{out}/indexer.json", "w"))
sqs = json.load(open("tests/fixtures/events/sqs-payments-batch.json"))
sqs["Records"] = sqs["Records"][1:2]
sqs["Records"][0]["body"] = "not an order id"
json.dump(sqs, open(f"{out}/expire-sweeper.json", "w"))
json.dump({"detail-type": "DomainLifecycle", "source": "registrar.core", "detail": {"domain": "-", "type": "deleted"}}, open(f"{out}/registry-events.json", "w"))
json.dump({"hello": "event"}, open(f"{out}/hello-lambda.json", "w"))
