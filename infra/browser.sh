#!/usr/bin/env bash
# The web console in a real browser: installs Debian's chromium when it is missing, builds the
# console (shared/console: its unit tests first), starts the local runner in memory with its
# demo data and the built console, and drives it with playwright-core (tests/browser/run.mjs).
# Screenshots land in tests/browser/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium (the browser tests never download one)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# Chinese pages need a CJK font, or the screenshots show empty boxes.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "== installing Debian's fonts-noto-cjk (the console's Chinese pages)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null; }
fi
/usr/bin/chromium --version

echo "== the console: npm ci, unit tests (vitest), build (vite)"
npm ci --prefix shared/console --no-audit --no-fund --loglevel=error
npm test --prefix shared/console
npm run build --prefix shared/console
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

bin="${CARGO_TARGET_DIR:-target}/debug/marketplace"
cargo build -q -p infra --bin marketplace
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
MARKET_DATA=:memory: MARKET_ADDR="127.0.0.1:$port" MARKET_CONSOLE_DIR="$PWD/shared/console/dist" \
  RUST_LOG=warn "$bin" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 300); do
  grep -q "Web console:" "$log" && curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
grep -q "Web console: http" "$log" || { echo "the runner did not serve the console"; cat "$log"; exit 1; }

echo "== browser tests (chromium, playwright-core) against http://127.0.0.1:$port"
MARKET_URL="http://127.0.0.1:$port" node tests/browser/run.mjs
