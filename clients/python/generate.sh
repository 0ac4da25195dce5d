#!/usr/bin/env bash
# Regenerate whittle_client/ (the generated half of the Python client) from the committed
# OpenAPI document with the pinned openapi-python-client. `--check` regenerates into a
# temporary directory and fails when the committed package differs (CI runs it).
# Tools: the venv of .ci/contract.sh (target/contract-venv), created there if missing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/target/contract-venv"
REQ="$ROOT/.ci/requirements-contract.txt"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! cmp -s "$REQ" "$VENV/.installed" 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/.installed"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
RUFF_NO_CACHE=true PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
  --path "$ROOT/openapi/openapi.json" --config "$HERE/openapi-python-client.yaml" \
  --meta none --output-path "$OUT/whittle_client" >"$OUT/log" 2>&1 || { cat "$OUT/log" >&2; exit 1; }
if grep -q "Warning" "$OUT/log"; then
  echo "generate: openapi-python-client warned:" >&2
  cat "$OUT/log" >&2
  exit 1
fi
if [ "${1:-}" = "--check" ]; then
  if ! diff -r -q -x __pycache__ -x .ruff_cache "$OUT/whittle_client" "$HERE/whittle_client" >/dev/null; then
    diff -r -x __pycache__ -x .ruff_cache "$OUT/whittle_client" "$HERE/whittle_client" | head -40 >&2
    echo "generate: clients/python/whittle_client is stale: run clients/python/generate.sh" >&2
    exit 1
  fi
  echo "generate: clients/python/whittle_client matches openapi/openapi.json"
else
  rm -rf "$HERE/whittle_client"
  cp -r "$OUT/whittle_client" "$HERE/whittle_client"
  echo "generate: wrote clients/python/whittle_client ($(find "$HERE/whittle_client" -name '*.py' | wc -l) files)"
fi
