#!/usr/bin/env bash
# Interop checks: the libraries that own whittle's output formats read what whittle writes.
#   bash interop/run.sh [light|heavy|fixtures|bench-onnx|bench-transformers]
# light (default, run by CI): numpy + safetensors. heavy: torch, transformers, compressed-tensors
# (a few GB of wheels). fixtures: regenerate tests/fixtures/tiny-{llama,bert} (heavy venv).
# bench-onnx: whittle's ONNX output beside onnxruntime's quantize_dynamic (light venv; JSON lines).
# bench-transformers: encoder/decoder tokens/s and GPTQ beside PyTorch (heavy venv) and
# llm-compressor (its own venv, .venv-bench from requirements-bench.txt; JSON lines).
# Each part has its own venv in interop/.venv-<part>; the server is ${WHITTLE_BIN:-target/debug/whittle}.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PART="${1:-light}"
case "$PART" in
  light|bench-onnx) REQ=light ;;
  heavy|fixtures|bench-transformers) REQ=heavy ;;
  *) echo "usage: $0 [light|heavy|fixtures|bench-onnx|bench-transformers]" >&2; exit 2 ;;
esac
VENV="$HERE/.venv-$REQ"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! cmp -s "$HERE/requirements-$REQ.txt" "$VENV/.installed" 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements-$REQ.txt"
  cp "$HERE/requirements-$REQ.txt" "$VENV/.installed"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error
cd "$HERE/.."
case "$PART" in
  light) exec "$VENV/bin/python" "$HERE/light.py" ;;
  bench-onnx) exec "$VENV/bin/python" "$HERE/bench_onnx.py" ;;
  heavy) exec "$VENV/bin/python" "$HERE/heavy.py" ;;
  fixtures) exec "$VENV/bin/python" "$HERE/make_fixtures.py" ;;
  bench-transformers)
    BENCH="$HERE/.venv-bench"
    [ -x "$BENCH/bin/python" ] || python3 -m venv "$BENCH"
    if ! cmp -s "$HERE/requirements-bench.txt" "$BENCH/.installed" 2>/dev/null; then
      "$BENCH/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements-bench.txt"
      cp "$HERE/requirements-bench.txt" "$BENCH/.installed"
    fi
    exec "$VENV/bin/python" "$HERE/bench_transformers.py" ;;
esac
