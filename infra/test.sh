#!/usr/bin/env bash
# The one test command (README): installs what the tests need, then runs every check and
# every test. The DynamoDB tests start their own moto server from the venv set up here and
# fail, never skip, when it cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local-aws/venv
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "== installing moto (local AWS endpoint) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.2.5'
fi
export MOTO_PYTHON="$PWD/$venv/bin/python"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== layers: market-core and market-app reach no I/O crate"
for layer in market-core market-app; do
  io=$(cargo tree -p "$layer" -e normal --prefix none --format '{p}' \
    | grep -E '^(axum|aws-|hyper|lambda_|redb|reqwest|rustls|tokio) ' || true)
  if [ -n "$io" ]; then
    echo "$layer depends on I/O crates:"; echo "$io"; exit 1
  fi
done
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cfn-lint template.yaml"
"$venv/bin/cfn-lint" template.yaml
echo "== cargo test"
cargo test --workspace
