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

# A live server for schemathesis and the Python client's tests (which start their own).
BIN=${WHITTLE_BIN:-target/debug/whittle}
DATA="$OUT/server"
mkdir -p "$DATA"
export DATABASE_URL="sqlite://$DATA/whittle.db" WHITTLE_ARTIFACTS="$DATA/artifacts" \
  WHITTLE_SCRATCH_DIR="$DATA/scratch"
KEY=$("$BIN" apikey create --tenant schemathesis | head -n1 | awk '{print $1}')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WHITTLE_BIND="127.0.0.1:$PORT" "$BIN" serve >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
unset DATABASE_URL WHITTLE_ARTIFACTS WHITTLE_SCRATCH_DIR

# schemathesis: every operation, all checks, a bounded number of examples (.ci/schemathesis.toml).
WHITTLE_API_KEY="$KEY" "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run \
  "http://127.0.0.1:$PORT/openapi.json" --url "http://127.0.0.1:$PORT" \
  || { echo "contract: schemathesis failed (server log: last lines follow)" >&2; tail -20 "$DATA/server.log" >&2; exit 1; }

# The Python client: generated part current, hand-written part tested against a real server.
bash clients/python/generate.sh --check
PYTHONDONTWRITEBYTECODE=1 WHITTLE_BIN="$BIN" "$VENV/bin/python" -m unittest discover \
  -s clients/python/tests -v
