#!/usr/bin/env bash
# Builds the web console and publishes it to a deployed stack: the files go to the stack's
# private bucket (ConsoleBucketName), with the config.json that tells the console where the
# API is (ApiUrl) and how people sign in (the stack's Cognito hosted UI: CognitoDomain,
# CognitoClientId); then the distribution drops its copy of what must not be stale.
#
#   infra/deploy-console.sh market-dev      (after `sam deploy --config-env dev`)
#
# Hashed assets are cached for a year; index.html and config.json are revalidated each time.
set -euo pipefail
stack=${1:?usage: infra/deploy-console.sh <stack-name>}
cd "$(dirname "$0")/.."

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text
}
bucket=$(output ConsoleBucketName)
distribution=$(output ConsoleDistributionId)
api=$(output ApiUrl)
cognito_domain=$(output CognitoDomain)
cognito_client=$(output CognitoClientId)
captcha_site_key=$(output CaptchaSiteKey)

npm ci --prefix shared/console
npm run build --prefix shared/console

if [ "$cognito_domain" = "None" ]; then
  # JwtIssuer names another identity provider: the console cannot sign in by itself.
  echo "note: the stack trusts JwtIssuer's provider, not its own Cognito pool; the console" >&2
  echo "      is published without a sign-in (sign_in: none)" >&2
  config=$(printf '{"api_base":"%s","sign_in":"none","captcha_site_key":"%s"}' "$api" "$captcha_site_key")
else
  config=$(printf '{"api_base":"%s","sign_in":"cognito","cognito":{"domain":"%s","client_id":"%s"},"captcha_site_key":"%s"}' \
    "$api" "$cognito_domain" "$cognito_client" "$captcha_site_key")
fi
printf '%s\n' "$config" > shared/console/dist/config.json

aws s3 sync shared/console/dist "s3://$bucket" --delete \
  --exclude index.html --exclude config.json \
  --cache-control "public, max-age=31536000, immutable"
for page in index.html config.json; do
  aws s3 cp "shared/console/dist/$page" "s3://$bucket/$page" --cache-control "no-cache"
done
aws cloudfront create-invalidation --distribution-id "$distribution" \
  --paths /index.html /config.json >/dev/null
echo "console published: $(output ConsoleUrl)"
