#!/usr/bin/env bash
# Runs infra/smoke.sh against the local runner as a production stack would be checked: an
# in-memory marketplace with its demo data, on a free port, with a token it printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/debug/marketplace"
cargo build -q -p infra --bin marketplace
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
MARKET_DATA=:memory: MARKET_ADDR="127.0.0.1:$port" RUST_LOG=warn "$bin" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
# Ready once it answers and has printed its demo tokens (printed after it starts listening).
token=""
for _ in $(seq 300); do
  token=$(sed -n 's/^  bob  *\(ey[^ ]*\)$/\1/p' "$log")
  [ -n "$token" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
[ -n "$token" ] || { echo "no token printed"; cat "$log"; exit 1; }
infra/smoke.sh "http://127.0.0.1:$port" "$token"
# And it does fail: against a base URL where no marketplace answers, every check fails.
if infra/smoke.sh "http://127.0.0.1:$port/not-the-api" "$token" >/dev/null; then
  echo "smoke.sh passed against a wrong base URL"; exit 1
fi
echo "smoke: fails as it should against a wrong base URL"
