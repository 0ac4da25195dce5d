#!/usr/bin/env bash
# The API contract as real clients see it: the committed OpenAPI document passes
# openapi-spec-validator, and openapi-python-client and openapi-typescript generate clients
# from it without a warning (a warning means an endpoint or type was dropped).
# Tools come from PyPI into target/contract-venv (cached across runs) and from npm via npx.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/contract-venv
REQ=.ci/requirements-contract.txt
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! cmp -s "$REQ" "$VENV/.installed" 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/.installed"
fi
DOC=openapi/openapi.json
"$VENV/bin/openapi-spec-validator" "$DOC"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
LOG="$OUT/python-client.log"
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$DOC" \
  --output-path "$OUT/python" >"$LOG" 2>&1 || { cat "$LOG"; exit 1; }
if grep -q "Warning" "$LOG"; then
  echo "contract: openapi-python-client warned (an endpoint or type would be dropped):" >&2
  cat "$LOG" >&2
  exit 1
fi
echo "contract: openapi-python-client generated $(find "$OUT/python" -name '*.py' | wc -l) files, no warnings"
npx -y openapi-typescript@7.13.0 "$DOC" -o "$OUT/api.d.ts" >"$OUT/ts.log" 2>&1 || { cat "$OUT/ts.log"; exit 1; }
echo "contract: openapi-typescript generated $(wc -l <"$OUT/api.d.ts") lines"
