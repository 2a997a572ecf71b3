#!/usr/bin/env bash
# The console's whole check in one go: unit tests, build, a fresh in-memory runner serving the
# build, the browser tests against it. MARKET_BIN is the runner binary (built elsewhere; this
# script builds no Rust). Needs Node 20, /usr/bin/chromium (apt-get install -y chromium) and,
# for legible Chinese screenshots, fonts-noto-cjk.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MARKET_BIN:-/tmp/console-runner/market}
ADDR=${MARKET_ADDR:-127.0.0.1:3100}

(cd "$ROOT/shared/console" && npm ci --no-audit --no-fund && npm test && npm run build)
npm ci --prefix "$ROOT/tests/browser" --no-audit --no-fund

MARKET_DATA=:memory: MARKET_ADDR="$ADDR" MARKET_CONSOLE_DIR="$ROOT/shared/console/dist" "$BIN" >"${TMPDIR:-/tmp}/console-runner.log" 2>&1 &
RUNNER=$!
trap 'kill "$RUNNER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$ADDR/health" >/dev/null 2>&1 && break
  kill -0 "$RUNNER" 2>/dev/null || { cat "${TMPDIR:-/tmp}/console-runner.log"; exit 1; }
  sleep 0.2
done
curl -fsS "http://$ADDR/health" >/dev/null
MARKET_URL="http://$ADDR" node "$ROOT/tests/browser/run.mjs"
