#!/usr/bin/env bash
# Every function binary starts and answers: each (debug build) is run under a local Lambda
# Runtime API (infra/lambda_emulator.py) and handed an event it can answer without any
# network, twice. A binary that panics at start (a client built before its TLS provider, a
# missing variable) or answers through the runtime's error route fails this check, which
# the in-process tests cannot see: they never run a function's main.
set -euo pipefail
cd "$(dirname "$0")/.."
debug="${CARGO_TARGET_DIR:-target}/debug"
cargo build -q -p fn-list -p fn-order -p fn-pay-callback -p fn-push -p fn-expire-sweeper \
  -p fn-admin -p fn-account -p fn-notify -p fn-indexer -p infra --bins
events=target/startup-events
mkdir -p "$events"
python3 infra/startup-events.py "$events"
args=("$debug/hello-lambda" "$events/hello-lambda.json")
for b in list order pay-notify pay-callback push expire-sweeper admin registry-events account notify indexer; do
  args+=("$debug/$b" "$events/$b.json")
done
out=$(python3 infra/lambda_emulator.py 1 "${args[@]}")
echo "$out"
# registry-events refuses its probe (a malformed lifecycle event goes back to the bus to be
# retried, then to its dead-letter queue): an error answer is its right answer here.
if grep -v '^registry-events ' <<<"$out" | grep -E ' error( |$)'; then
  echo "a function answered through the runtime's error route"; exit 1
fi
echo "every function started and answered twice"
