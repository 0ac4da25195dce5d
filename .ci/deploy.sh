#!/usr/bin/env bash
# The deployment as CI can check it without building images: hadolint on the Dockerfile, the
# compose file against the Compose Specification's schema, the Kubernetes manifests against
# the Kubernetes schemas, and the compose topology run as
# native processes in both profiles (local volume; S3), driven by a user's job, with the
# metrics linted by promtool. Tools: the deploy venv (moto, hadolint, PyYAML, jsonschema;
# created by .ci/run) and promtool (Debian's prometheus package, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/deploy-venv
BIN=${WHITTLE_BIN:-target/debug/whittle}

"$VENV/bin/hadolint" --no-color docker/Dockerfile
echo "deploy: hadolint docker/Dockerfile: clean"

# Everything the build stage copies from the context is let through .dockerignore.
"$VENV/bin/python" - <<'PY'
import re, sys
allowed = {l[1:].strip().rstrip("/") for l in open(".dockerignore") if l.startswith("!")}
missing = []
for line in open("docker/Dockerfile"):
    m = re.match(r"COPY\s+(?!--from)(.+)", line.strip())
    if m:
        *sources, _dest = m.group(1).split()
        missing += [src for src in sources if src.rstrip("/") not in allowed]
if missing:
    sys.exit(f"deploy: .dockerignore leaves out what the Dockerfile copies: {missing}")
print("deploy: .dockerignore lets through every path the Dockerfile copies")
PY

"$VENV/bin/python" - <<'PY'
import json, sys, yaml, jsonschema
schema = json.load(open("tests/fixtures/compose-spec/compose-spec.json"))
doc = yaml.safe_load(open("docker/compose.yaml"))
errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
for e in errors:
    print("deploy: compose.yaml:", "/".join(map(str, e.path)), e.message, file=sys.stderr)
if errors:
    sys.exit(1)
print("deploy: docker/compose.yaml matches the Compose Specification schema")
PY

"$VENV/bin/kubernetes-validate" --strict --quiet -k 1.31 deploy/kubernetes/config.yaml \
  deploy/kubernetes/api.yaml deploy/kubernetes/worker.yaml deploy/kubernetes/secret.example.yaml
echo "deploy: deploy/kubernetes validates against the Kubernetes 1.31 schemas (strict)"

if ! command -v promtool >/dev/null 2>&1; then
  echo "deploy: installing promtool (Debian package prometheus)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null
fi
command -v promtool >/dev/null || { echo "deploy: FATAL: promtool missing" >&2; exit 1; }

for profile in default s3; do
  "$VENV/bin/python" .ci/deploy_smoke.py --bin "$BIN" --profile "$profile"
done
