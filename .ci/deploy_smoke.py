#!/usr/bin/env python3
"""The compose topology as native processes: what `docker compose -f docker/compose.yaml up`
starts, run here where images cannot be built.

The services and their commands, environment (anchors, merges and `${VAR:-default}`
interpolation resolved), shared volumes, health checks and stop grace come from
docker/compose.yaml itself. What a container network would provide is mapped onto this
machine: `postgres:5432` → the local Postgres (a fresh database), `s3:5000` → a moto server
from the deploy venv (the image the `s3` profile names), each container's `/data` → its own
directory (named volumes shared between services as in compose), published and health ports →
free local ports. Then, as a user would: read the first API key from `init`'s output, wait for
every health check, upload a model, quantize it on the workers, download the result, read
`/metrics` (checked by promtool when it is installed), and stop everything with SIGTERM within
the stop grace period.

    python .ci/deploy_smoke.py --bin target/debug/whittle [--profile s3]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(f"deploy-smoke: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def interpolate(value, env):
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}` (`$$` is a literal `$`)."""
    def sub(m):
        name, op, default = m.group(1), m.group(2), m.group(3) or ""
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env.get(name, default)
        return env.get(name, "")

    if not isinstance(value, str):
        return value
    value = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}", sub, value)
    return value.replace("$$", "$")


def resolve(node, env):
    if isinstance(node, dict):
        return {k: resolve(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, env) for v in node]
    return interpolate(node, env)


def env_dict(environment):
    if environment is None:
        return {}
    if isinstance(environment, list):
        out = {}
        for item in environment:
            k, _, v = item.partition("=")
            out[k] = v
        return out
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def model_bytes(rows=64, cols=256):
    n = rows * cols
    header = json.dumps({"layer.weight": {"dtype": "F32", "shape": [rows, cols],
                                          "data_offsets": [0, 4 * n]}}).encode()
    header += b" " * (-len(header) % 8)
    values = [((i * 7919 % 1000) / 1000.0 - 0.5) * 0.04 for i in range(n)]
    return struct.pack("<Q", len(header)) + header + struct.pack(f"<{n}f", *values)


def safetensors_names(data):
    (n,) = struct.unpack("<Q", data[:8])
    return [k for k in json.loads(data[8:8 + n]) if k != "__metadata__"]


class Topology:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix=f"whittle-deploy-{args.profile}-")
        self.procs = {}
        self.ports = {}
        self.compose = None
        self.db_name = f"whittle_smoke_{args.profile}"

    # --- the compose file -------------------------------------------------------------
    def load(self):
        user_env = {}
        if self.args.profile == "s3":
            # What the README's S3 command line sets.
            user_env["WHITTLE_ARTIFACTS"] = "s3://whittle/artifacts"
        with open(self.args.compose) as f:
            raw = yaml.safe_load(f)
        self.compose = resolve(raw, user_env)
        services = self.compose["services"]
        active = {}
        for name, svc in services.items():
            profiles = svc.get("profiles") or []
            if profiles and self.args.profile not in profiles:
                continue
            active[name] = svc
        self.services = active
        log(f"services: {', '.join(active)}")

    def is_whittle(self, svc):
        return svc.get("image", "").startswith("whittle:")

    def volume_dir(self, name):
        path = os.path.join(self.tmp, "volumes", name)
        os.makedirs(path, exist_ok=True)
        return path

    def map_path(self, service, path):
        """A container path → this machine: mounted volumes first, else the service's root."""
        for mount in self.services[service].get("volumes") or []:
            src, _, target = mount.partition(":")
            target = target.split(":")[0]
            if path == target or path.startswith(target + "/"):
                return self.volume_dir(src) + path[len(target):]
        return os.path.join(self.tmp, "root", service) + path

    def map_env(self, service, env):
        out = {}
        for k, v in env.items():
            v = v.replace("@postgres:5432/whittle", f"@127.0.0.1:5432/{self.db_name}")
            if "s3" in self.ports:
                v = v.replace("http://s3:5000", f"http://127.0.0.1:{self.ports['s3']}")
            if v.startswith("/data"):
                v = self.map_path(service, v)
            if k in ("WHITTLE_BIND", "WHITTLE_HEALTH_BIND"):
                host, _, port = v.rpartition(":")
                local = free_port()
                self.ports[(service, int(port))] = local
                v = f"{host}:{local}"
            out[k] = v
        return out

    def local_url(self, service, url):
        m = re.match(r"http://127\.0\.0\.1:(\d+)(/.*)", url)
        port = self.ports[(service, int(m.group(1)))]
        return f"http://127.0.0.1:{port}{m.group(2)}"

    # --- processes ----------------------------------------------------------------------
    def database(self):
        psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
        subprocess.run(psql + ["-c", f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)"],
                       check=True)
        # The compose file's credentials, on this machine's server.
        subprocess.run(psql + ["-c", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE "
                               "rolname = 'whittle') THEN CREATE ROLE whittle LOGIN PASSWORD "
                               "'whittle'; END IF; END $$"], check=True)
        subprocess.run(psql + ["-c", f"CREATE DATABASE {self.db_name} OWNER whittle"], check=True)

    def start_s3(self):
        self.ports["s3"] = free_port()
        svc = self.services["s3"]
        cmd = [self.args.moto] + [("127.0.0.1" if a == "0.0.0.0" else a) for a in svc["command"]]
        cmd[cmd.index("-p") + 1] = str(self.ports["s3"])
        self.spawn("s3", cmd, dict(os.environ))
        bucket = self.services["s3-bucket"]
        script = bucket["command"][0].replace("http://s3:5000", f"http://127.0.0.1:{self.ports['s3']}")
        subprocess.run([sys.executable, "-c", script], check=True, timeout=90)
        log("s3: moto up, bucket created by the s3-bucket service's own script")

    def command(self, svc):
        return [self.args.bin] + list(svc.get("command") or ["serve"])

    def whittle_env(self, name):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WHITTLE_"))}
        env.update(self.map_env(name, env_dict(self.services[name].get("environment"))))
        env["RUST_LOG"] = "info,sqlx=warn"
        # Keep any credential lookup on this machine.
        env["AWS_METADATA_ENDPOINT"] = "http://127.0.0.1:9"
        return env

    def spawn(self, name, cmd, env):
        logf = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        self.procs[name] = (subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                             cwd=self.map_path(name, "/data") if name in self.services
                                             and self.is_whittle(self.services[name]) else self.tmp),
                            logf)

    def run_init(self):
        name = "init"
        os.makedirs(self.map_path(name, "/data/scratch"), exist_ok=True)
        out = subprocess.run(self.command(self.services[name]), env=self.whittle_env(name),
                             capture_output=True, text=True, timeout=120,
                             cwd=self.map_path(name, "/data"))
        if out.returncode != 0:
            raise SystemExit(f"init failed: {out.stdout}\n{out.stderr}")
        keys = [line for line in out.stdout.splitlines() if line.startswith("wh_")]
        assert len(keys) == 1, f"init printed no key: {out.stdout!r} {out.stderr!r}"
        again = subprocess.run(self.command(self.services[name]), env=self.whittle_env(name),
                               capture_output=True, text=True, timeout=120,
                               cwd=self.map_path(name, "/data"))
        assert again.returncode == 0 and "wh_" not in again.stdout, again
        log("init: first API key created; a second run does nothing")
        return keys[0]

    def start_whittle(self, name):
        svc = self.services[name]
        os.makedirs(self.map_path(name, "/data"), exist_ok=True)
        self.spawn(name, self.command(svc), self.whittle_env(name))

    def healthy(self, name, timeout=60):
        svc = self.services[name]
        test = svc.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD" and test[1] == "whittle", f"{name}: {test}"
        args = list(test[2:])
        i = args.index("--url")
        args[i + 1] = self.local_url(name, args[i + 1])
        deadline = time.time() + timeout
        while time.time() < deadline:
            proc = self.procs[name][0]
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}: {self.tail(name)}")
            if subprocess.run([self.args.bin] + args, capture_output=True).returncode == 0:
                log(f"{name}: healthy ({' '.join(args)})")
                return
            time.sleep(0.5)
        raise SystemExit(f"{name} never became healthy: {self.tail(name)}")

    def tail(self, name):
        with open(os.path.join(self.tmp, f"{name}.log"), "rb") as f:
            return f.read()[-3000:].decode(errors="replace")

    def stop(self):
        for name, (proc, _) in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        failures = []
        for name, (proc, logf) in self.procs.items():
            svc = self.services.get(name, {})
            grace = int(str(svc.get("stop_grace_period", "10s")).rstrip("s"))
            try:
                code = proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                failures.append(f"{name} did not stop within its stop_grace_period ({grace}s)")
                continue
            logf.close()
            if name != "s3" and code != 0:
                failures.append(f"{name} exited with {code} on SIGTERM: {self.tail(name)}")
        return failures

    # --- what a user does -----------------------------------------------------------------
    def drive(self, key):
        api = f"http://127.0.0.1:{self.ports[('api', 8080)]}"
        auth = {"authorization": f"Bearer {key}"}
        status, _ = http("GET", f"{api}/v1/models")
        assert status == 401, f"no key: {status}"
        raw = model_bytes()
        status, body = http("POST", f"{api}/v1/models?name=smoke", raw,
                            {**auth, "content-type": "application/octet-stream"})
        assert status == 201, (status, body)
        model = json.loads(body)
        jobs = []
        for scheme in ({"bits": 8, "granularity": "channel"},
                       {"bits": 4, "granularity": "group", "group_size": 64}):
            status, body = http("POST", f"{api}/v1/jobs",
                                json.dumps({"kind": "quantize",
                                            "spec": {"model_id": model["id"], "scheme": scheme}}).encode(),
                                {**auth, "content-type": "application/json"})
            assert status in (200, 201, 202), (status, body)
            jobs.append(json.loads(body)["id"])
        for job_id in jobs:
            deadline = time.time() + 120
            while True:
                status, body = http("GET", f"{api}/v1/jobs/{job_id}?wait=30", headers=auth, timeout=40)
                job = json.loads(body)
                if job["state"] in ("succeeded", "failed", "canceled"):
                    break
                assert time.time() < deadline, job
            assert job["state"] == "succeeded", job
            status, out = http("GET", f"{api}/v1/models/{job['output_model_id']}/content", headers=auth)
            assert status == 200, status
            names = safetensors_names(out)
            assert any(n.startswith("layer.weight") for n in names), names
        log(f"upload → quantize int8 and int4 on the workers → download: ok ({len(jobs)} jobs)")
        status, metrics = http("GET", f"{api}/metrics", headers=auth)
        assert status == 200, status
        worker = self.local_url("worker-1", "http://127.0.0.1:8081/metrics")
        status, wmetrics = http("GET", worker)
        assert status == 200, status
        for text, who in ((metrics, "api"), (wmetrics, "worker-1")):
            text = text.decode()
            for family in ("whittle_build_info", "process_resident_memory_bytes"):
                assert f"# HELP {family}" in text and f"# TYPE {family}" in text, (who, family)
            self.promtool(text, who)
        assert "whittle_job_queue_wait_seconds" in wmetrics.decode() or \
            "whittle_job_queue_wait_seconds" in self.other_worker_metrics()
        log("metrics: api and workers export described families")

    def other_worker_metrics(self):
        status, body = http("GET", self.local_url("worker-2", "http://127.0.0.1:8081/metrics"))
        return body.decode() if status == 200 else ""

    def promtool(self, text, who):
        tool = shutil.which("promtool")
        if not tool:
            log(f"promtool not installed: {who} metrics not linted")
            return
        out = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True)
        if out.returncode != 0 or out.stdout.strip() or out.stderr.strip():
            raise SystemExit(f"promtool check metrics ({who}): {out.stdout.decode()} {out.stderr.decode()}")
        log(f"promtool check metrics ({who}): clean")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.path.join(ROOT, "target/debug/whittle"))
    p.add_argument("--compose", default=os.path.join(ROOT, "docker/compose.yaml"))
    p.add_argument("--moto", default=os.path.join(ROOT, "target/deploy-venv/bin/moto_server"))
    p.add_argument("--profile", choices=["default", "s3"], default="default")
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    t = Topology(args)
    failures = []
    try:
        t.load()
        t.database()
        if args.profile == "s3":
            t.start_s3()
        key = t.run_init()
        order = [n for n, s in t.services.items() if t.is_whittle(s) and n != "init"]
        for name in order:
            t.start_whittle(name)
        for name in order:
            t.healthy(name)
        t.drive(key)
    finally:
        failures += t.stop()
    if failures:
        raise SystemExit("deploy-smoke: " + "; ".join(failures))
    log(f"profile {args.profile}: ok (logs in {t.tmp})")
    shutil.rmtree(t.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
