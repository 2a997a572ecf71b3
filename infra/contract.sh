#!/usr/bin/env bash
# Fuzzes the local runner against the generated openapi.yaml with schemathesis (--checks
# all): an in-memory marketplace on a free port, an operator's token (every route reachable),
# a fixed seed. Usage: infra/contract.sh [extra schemathesis options]. Needs the venv that
# infra/test.sh sets up; builds the marketplace binary.
#
# Left out unless CONTRACT_ALL=1:
# - `positive_data_acceptance` (ST202, "schema-valid request rejected"): the rules no JSON
#   Schema states are refused as the contract says: an opaque `cursor` not given out, a
#   string that is no domain name (IDNA), `min_price` > `max_price`, an `ends_at` in the
#   past, `until` <= `from`, an amount over 100000000.00, a failed human check, an account
#   not verified or without an Alipay account (A1).
# The dev routes are fuzzed too (a move of ten years costs one bounded sweep: the sweep
# walks at most MAX_BUCKETS_PER_SWEEP hours a run).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local-aws/venv
bin="${CARGO_TARGET_DIR:-target}/debug/marketplace"
cargo build -q -p infra --bin marketplace
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="contract-$RANDOM$RANDOM"
log=$(mktemp)
MARKET_DATA=:memory: MARKET_ADDR="127.0.0.1:$port" MARKET_JWT_SECRET="$secret" RUST_LOG=warn \
  "$bin" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
# An HS256 token for the seeded operator `ops` (roles: admin), as `cargo run` prints them.
token=$(SECRET="$secret" "$venv/bin/python" - <<'PY'
import base64, hashlib, hmac, json, os, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "ops", "roles": ["admin"], "exp": int(time.time()) + 3600}).encode())
sig = hmac.new(os.environ["SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
print(f"{head}.{body}.{b64(sig)}")
PY
)
skip=(--exclude-checks positive_data_acceptance)
if [ "${CONTRACT_ALL:-0}" = 1 ]; then
  skip=()
fi
"$venv/bin/schemathesis" run openapi.yaml -u "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" --checks all --seed 1 --no-color \
  --max-examples "${CONTRACT_EXAMPLES:-25}" "${skip[@]}" "$@"
