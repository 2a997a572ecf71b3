#!/usr/bin/env bash
# The deploy path, checked offline (no AWS credentials): `sam validate --lint`, then
# `sam build` exactly as the README runs it (samconfig.toml: build_in_source, the makefile
# method of infra/lambda/Makefile) against stand-in bootstraps laid out as
# ./infra/build-lambdas.sh writes them (the real arm64 build takes ~12 minutes on 2 cores),
# and a look at what it packaged: one executable bootstrap per function of the template.
# Installs aws-sam-cli into its own venv (it pins an older boto3 than moto).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.local-aws/sam-venv
if [ ! -x "$venv/bin/sam" ]; then
  echo "== installing aws-sam-cli into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'aws-sam-cli==1.170.0'
fi
export SAM_CLI_TELEMETRY=0
sam="$venv/bin/sam"

echo "== sam validate --lint"
"$sam" validate --lint --template template.yaml --region us-east-1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The binaries build-lambdas.sh builds, read from it (one list for both).
binaries=$(sed -n 's/^binaries=(\(.*\))$/\1/p' infra/build-lambdas.sh)
[ -n "$binaries" ] || { echo "no binaries=(…) list in infra/build-lambdas.sh"; exit 1; }
for b in $binaries; do
  mkdir -p "$work/lambda/$b"
  printf '#!/bin/sh\necho %s\n' "$b" >"$work/lambda/$b/bootstrap"
  chmod +x "$work/lambda/$b/bootstrap"
done

echo "== sam build --config-env dev (stand-in bootstraps from $work/lambda)"
LAMBDA_DIR="$work/lambda" "$sam" build --config-env dev --build-dir "$work/build" \
  --region us-east-1 >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

echo "== what sam deploy would upload"
functions=$(grep -B1 '^    Type: AWS::Serverless::Function$' template.yaml | sed -n 's/^  \([A-Za-z]*\):$/\1/p')
count=0
for f in $functions; do
  artifact="$work/build/$f/bootstrap"
  if [ ! -x "$artifact" ]; then
    echo "missing: $artifact"; exit 1
  fi
  printf '%-24s %s\n' "$f" "$(tail -1 "$artifact" | cut -d' ' -f2)"
  count=$((count + 1))
done

echo "packaged $count functions, each its own bootstrap"
