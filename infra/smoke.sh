#!/usr/bin/env bash
# A smoke test of a running marketplace, end to end, through its public HTTP API only (no
# dev routes, nothing created or paid): safe against production.
#   infra/smoke.sh BASE_URL TOKEN
# BASE_URL: the stack's ApiUrl output (or the local runner's http://127.0.0.1:3000);
# TOKEN: a valid JWT of any account of the identity provider (the local runner prints some).
# Checks: health; market browse; a listing's page; the caller's domains with the token and
# a 401 without; an order refused for a known reason (a failed human check: nothing is
# ordered); the payment notify route refusing a malformed body; an unknown route's 404.
# Prints one line per check and exits non-zero if any fails.
set -uo pipefail
base="${1:?usage: infra/smoke.sh BASE_URL TOKEN}"
token="${2:?usage: infra/smoke.sh BASE_URL TOKEN}"
base="${base%/}"
failed=0
body=$(mktemp)
trap 'rm -f "$body"' EXIT

# call METHOD PATH [curl options...]: sets $status and the body file.
call() {
  local method=$1 path=$2
  shift 2
  status=$(curl -sS -m 15 -o "$body" -w '%{http_code}' -X "$method" "$base$path" "$@" 2>/dev/null || echo 000)
}

check() {
  local name=$1 ok=$2
  if [ "$ok" = yes ]; then
    echo "ok    $name"
  else
    echo "FAIL  $name (status $status: $(head -c 300 "$body"))"
    failed=1
  fi
}

has() { grep -q -- "$1" "$body" && echo yes || echo no; }

call GET /health
check "GET /health answers ok" "$([ "$status" = 200 ] && has '"ok"' || echo no)"

call GET "/listings?limit=5"
check "GET /listings browses the market" "$([ "$status" = 200 ] && has '"items"' || echo no)"
listing=$(grep -o '"id":"lst_[a-z0-9]*"' "$body" | head -1 | cut -d'"' -f4)
if [ -n "$listing" ]; then
  call GET "/listings/$listing"
  check "GET /listings/{id} shows a listing" "$([ "$status" = 200 ] && has "\"$listing\"" || echo no)"
else
  echo "skip  GET /listings/{id}: the market has no active listing"
fi

call GET "/me/domains?limit=1" -H "Authorization: Bearer $token"
check "GET /me/domains with the token" "$([ "$status" = 200 ] && has '"items"' || echo no)"

call GET /me/domains
check "GET /me/domains without a token is 401 UNAUTHENTICATED" "$([ "$status" = 401 ] && has UNAUTHENTICATED || echo no)"

call POST /orders -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"domains":["smoke-check.invalid"],"captcha_token":"smoke-test-not-a-solved-captcha"}'
check "POST /orders without a passed human check is 400 CAPTCHA_FAILED (nothing ordered)" \
  "$([ "$status" = 400 ] && has CAPTCHA_FAILED || echo no)"

call POST /payments/alipay/notify -H 'Content-Type: application/x-www-form-urlencoded' -d 'smoke=not-a-notification'
check "POST /payments/alipay/notify refuses a malformed body with 4xx" \
  "$([ "${status:0:1}" = 4 ] && echo yes || echo no)"

call GET /no-such-route
check "an unknown route is 404" "$([ "$status" = 404 ] && echo yes || echo no)"

if [ "$failed" = 0 ]; then
  echo "smoke: all checks passed against $base"
else
  echo "smoke: FAILED against $base"
fi
exit "$failed"
