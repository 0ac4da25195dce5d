"""Shared helpers of the interop checks: a whittle server on a free loopback port with a
throw-away data directory, its HTTP API (standard library only), and the check registry."""
import io
import json
import os
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURES = os.path.join(REPO, "tests", "fixtures")

CHECKS = []


def check(fn):
    """Registers a check (a function taking the Server)."""
    CHECKS.append(fn)
    return fn


class Server:
    def __init__(self):
        binary = os.environ.get("WHITTLE_BIN", os.path.join(REPO, "target", "debug", "whittle"))
        if not os.path.exists(binary):
            raise SystemExit(f"interop: no whittle binary at {binary} (cargo build, or set WHITTLE_BIN)")
        self.dir = tempfile.TemporaryDirectory(prefix="whittle-interop-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        env = dict(os.environ,
                   DATABASE_URL=f"sqlite://{self.dir.name}/whittle.db",
                   WHITTLE_ARTIFACTS=f"{self.dir.name}/artifacts",
                   WHITTLE_SCRATCH_DIR=f"{self.dir.name}/scratch",
                   WHITTLE_BIND=f"127.0.0.1:{port}")
        self.log = open(os.path.join(self.dir.name, "server.log"), "w")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("interop: the server did not come up")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()

    def request(self, method, path, body=None, content_type=None):
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if content_type:
            req.add_header("content-type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def json(self, method, path, payload=None):
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(method, path, body, "application/json" if body else None)
        return status, json.loads(data) if data else None

    def upload_file(self, name, data):
        status, body = self.request("POST", f"/v1/models?name={name}", data, "application/octet-stream")
        assert status == 201, body
        return json.loads(body)

    def upload_folder(self, name, folder):
        """Uploads a model folder as a tar stream."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for f in sorted(os.listdir(folder)):
                tar.add(os.path.join(folder, f), arcname=f)
        status, body = self.request("POST", f"/v1/models?name={name}", buf.getvalue(), "application/x-tar")
        assert status == 201, body
        return json.loads(body)

    def run_job(self, kind, spec, timeout=120):
        status, job = self.json("POST", "/v1/jobs", {"kind": kind, "spec": spec})
        assert status == 202, job
        deadline = time.time() + timeout
        while time.time() < deadline:
            _, job = self.json("GET", f"/v1/jobs/{job['id']}")
            if job["state"] in ("succeeded", "failed", "canceled"):
                assert job["state"] == "succeeded", job
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job['id']} did not finish")

    def download(self, model_id):
        status, data = self.request("GET", f"/v1/models/{model_id}/content")
        assert status == 200, data
        return data

    def download_folder(self, model_id, dest):
        with tarfile.open(fileobj=io.BytesIO(self.download(model_id))) as tar:
            tar.extractall(dest, filter="data")
        return dest


def run_all(label):
    server = Server()
    failed = []
    try:
        for fn in CHECKS:
            started = time.time()
            try:
                fn(server)
                print(f"ok    {fn.__name__} ({time.time() - started:.1f}s)")
            except Exception as e:  # noqa: BLE001 - every failure is reported, then the run fails
                failed.append(fn.__name__)
                print(f"FAIL  {fn.__name__}: {type(e).__name__}: {str(e)[:2000]}")
    finally:
        server.close()
    print(f"interop {label}: {len(CHECKS) - len(failed)} of {len(CHECKS)} checks passed")
    return 1 if failed else 0
