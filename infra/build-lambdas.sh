#!/usr/bin/env bash
# Builds every Lambda binary for arm64 (provided.al2023) with cargo-lambda, which brings zig
# for the cross link (PyPI, seconds to install; `cargo install cargo-lambda` would compile
# for ~16 minutes). One cargo invocation builds the whole workspace once for all functions;
# the bootstraps land in target/lambda/<binary>/bootstrap, where template.yaml's CodeUri
# points. Prints each binary's size.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local-aws/build-venv
if [ ! -x "$venv/bin/cargo-lambda" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'cargo-lambda==1.9.2'
fi
export PATH="$PWD/$venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu >/dev/null

packages=(fn-list fn-order fn-pay-callback fn-push fn-expire-sweeper fn-admin fn-account fn-notify fn-indexer)
binaries=(list order pay-notify pay-callback push expire-sweeper admin registry-events account notify indexer)
args=()
for p in "${packages[@]}"; do args+=(--package "$p"); done
cargo lambda build --release --arm64 "${args[@]}"

# sam build (infra/lambda/Makefile) takes them from target/lambda/: copy them there when
# CARGO_TARGET_DIR put them elsewhere.
built="${CARGO_TARGET_DIR:-target}/lambda"
if [ "$(realpath -m "$built")" != "$(realpath -m target/lambda)" ]; then
  for b in "${binaries[@]}"; do
    mkdir -p "target/lambda/$b"
    cp "$built/$b/bootstrap" "target/lambda/$b/bootstrap"
  done
fi
echo "== bootstrap sizes (arm64, release: lto, 1 codegen unit, stripped, opt-level s)"
for b in "${binaries[@]}"; do
  printf '%-16s %8s bytes\n' "$b" "$(stat -c %s "target/lambda/$b/bootstrap")"
done
