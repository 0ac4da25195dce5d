"""The Python client against a real `whittle serve`: upload, train, wait, quantize, download,
tune (trials listed as jobs), typed specs and results, and errors as WhittleError.

The server is started here from WHITTLE_BIN (default: the repository's target/debug/whittle)
on a free port over a temporary SQLite database, with one API key.

    python -m unittest discover -s clients/python/tests -v
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent
ROOT = CLIENT.parent.parent
sys.path.insert(0, str(CLIENT))

import httpx  # noqa: E402

from whittle import JobFailed, Whittle, WhittleError  # noqa: E402
from whittle_client.api.jobs import job_trials, list_jobs  # noqa: E402
from whittle_client.models import (  # noqa: E402
    AnalyzeJob,
    AnalyzeJobRequest,
    AnalyzeResult,
    AnalyzeSpec,
    ArchitectureSpec,
    FitResultClassification,
    ListJobsKind,
    QuantizeJob,
    QuantizeJobRequest,
    QuantizeResultUnrated,
    QuantizeSpec,
    TrainJob,
    TrainJobRequest,
    TrainSpec,
    TrialJob,
    TuneJob,
    TuneJobRequest,
    TuneSpec,
)

FIXTURES = ROOT / "tests" / "fixtures"
SERVER: dict = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule() -> None:
    binary = Path(os.environ.get("WHITTLE_BIN", ROOT / "target" / "debug" / "whittle"))
    if not binary.exists():
        raise RuntimeError(f"{binary} does not exist: build it (cargo build) or set WHITTLE_BIN")
    data = Path(tempfile.mkdtemp(prefix="whittle-sdk-"))
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{data}/whittle.db",
        WHITTLE_ARTIFACTS=str(data / "artifacts"),
        WHITTLE_SCRATCH_DIR=str(data / "scratch"),
        WHITTLE_WORKERS="2",
        WHITTLE_POLL_MS="50",
    )
    out = subprocess.run(
        [str(binary), "apikey", "create", "--tenant", "sdk"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    key = out.split()[0]
    port = _free_port()
    env["WHITTLE_BIND"] = f"127.0.0.1:{port}"
    log = open(data / "server.log", "wb")
    proc = subprocess.Popen([str(binary), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError((data / "server.log").read_text())
        time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("the server did not become ready")
    SERVER.update(proc=proc, url=url, key=key, data=data, log=log)


def tearDownModule() -> None:
    proc = SERVER.get("proc")
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        SERVER["log"].close()


def _client(case: unittest.TestCase, key: str | None = None) -> Whittle:
    w = Whittle(SERVER["url"], api_key=key or SERVER["key"], timeout=120)
    case.addCleanup(w.close)
    return w


def _safetensors_header(path: Path) -> dict:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n])


class RoundTrip(unittest.TestCase):
    def test_train_quantize_download(self) -> None:
        w = _client(self)
        train = w.upload_dataset(FIXTURES / "digits_train.csv")
        self.assertEqual(train.name, "digits_train.csv")
        self.assertGreater(train.rows, 0)
        seen = []
        job = w.submit(
            TrainJobRequest(
                kind="train",
                spec=TrainSpec(
                    dataset_id=train.id,
                    architecture=ArchitectureSpec(hidden=[32]),
                    epochs=3,
                    batch_size=32,
                    seed=1,
                ),
            )
        )
        self.assertIsInstance(job, TrainJob)
        # The stored spec echoes the user's values: the default Adam lr is 0.001, not
        # 0.0010000000474974513.
        self.assertEqual(job.spec.optimizer.to_dict()["lr"], 0.001)
        job = w.wait(job, timeout=300, on_progress=seen.append)
        self.assertIsInstance(job, TrainJob)
        self.assertEqual(job.state.value, "succeeded")
        self.assertTrue(seen and seen[-1].state.value == "succeeded")
        self.assertIsInstance(job.result, FitResultClassification)
        self.assertEqual(job.result.epochs_run, 3)
        self.assertGreater(job.result.n_params, 0)
        model_id = job.output_model_id

        q = w.wait(
            w.submit(
                QuantizeJobRequest(
                    kind="quantize",
                    spec=QuantizeSpec.from_dict({"model_id": str(model_id), "scheme": {"bits": 8}}),
                )
            ),
            timeout=300,
        )
        self.assertIsInstance(q, QuantizeJob)
        self.assertIsInstance(q.result, QuantizeResultUnrated)
        self.assertLess(q.result.bytes_after, q.result.bytes_before)

        with tempfile.TemporaryDirectory() as d:
            path = w.download(q.output_model_id, Path(d) / "q.safetensors")
            header = _safetensors_header(path)
            names = [k for k in header if k != "__metadata__"]
            # compressed-tensors: packed integer weights beside their scales.
            self.assertTrue(any(n.endswith("weight_scale") for n in names), names)
            self.assertTrue(any(n.endswith("weight_packed") for n in names), names)
            again = w.upload_model(path, name="requantized")
            self.assertEqual(again.name, "requantized")
            self.assertEqual(w.get_model(again.id).id, again.id)

    def test_a_jobs_event_stream_and_resume(self) -> None:
        w = _client(self)
        train = w.upload_dataset(FIXTURES / "digits_train.csv", name="events")
        job = w.submit(
            TrainJobRequest(
                kind="train",
                spec=TrainSpec(
                    dataset_id=train.id, architecture=ArchitectureSpec(hidden=[16]), epochs=3
                ),
            )
        )
        events = list(w.events(job, timeout=300))
        types = [e["type"] for e in events]
        self.assertEqual(types[0], "job.queued")
        self.assertEqual(types[-1], "job.succeeded")
        self.assertIn("job.running", types)
        self.assertEqual([e["seq"] for e in events], list(range(1, len(events) + 1)))
        losses = [e["data"]["step"] for e in events
                  if e["type"] == "job.metric" and e["data"]["name"] == "train_loss"]
        self.assertEqual(losses, [1, 2, 3])
        rest = list(w.events(job, last_event_id=2))
        self.assertEqual(rest, events[2:])

    def test_upload_a_model_folder_and_analyze_it(self) -> None:
        w = _client(self)
        model = w.upload_model(FIXTURES / "tiny-llama")
        self.assertEqual(model.name, "tiny-llama")
        job = w.wait(
            w.submit(AnalyzeJobRequest(kind="analyze", spec=AnalyzeSpec(model_id=model.id))),
            timeout=300,
        )
        self.assertIsInstance(job, AnalyzeJob)
        self.assertIsInstance(job.result, AnalyzeResult)
        self.assertGreater(job.result.n_tensors, 0)
        with tempfile.TemporaryDirectory() as d:
            folder = w.download(model.id, Path(d) / "llama")
            self.assertTrue((folder / "config.json").is_file())

    def test_tune_and_its_trials(self) -> None:
        w = _client(self)
        train = w.upload_dataset(FIXTURES / "digits_train.csv", name="digits")
        spec = TuneSpec.from_dict(
            {
                "dataset_id": str(train.id),
                "base": {"architecture": {"hidden": [16]}, "epochs": 2, "batch_size": 64},
                "search_space": {"optimizer.lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}},
                "sampler": "random",
                "n_trials": 2,
                "cv_folds": 2,
                "refit": False,
            }
        )
        study = w.wait(w.submit(TuneJobRequest(kind="tune", spec=spec)), timeout=600)
        self.assertIsInstance(study, TuneJob)
        self.assertEqual(study.result.trials_complete, 2)
        trials = job_trials.sync(id=study.id, client=w.api)
        self.assertEqual(len(trials.items), 2)
        for t in trials.items:
            self.assertEqual(len(t.intermediate), 2)
            self.assertTrue(all(len(pair) == 2 for pair in t.intermediate))
        page = list_jobs.sync(client=w.api, kind=ListJobsKind.TRIAL, parent_job_id=study.id)
        self.assertEqual(len(page.items), 2)
        self.assertTrue(all(isinstance(j, TrialJob) for j in page.items))


class Errors(unittest.TestCase):
    def test_invalid_spec_names_the_field(self) -> None:
        w = _client(self)
        missing = uuid.uuid4()
        with self.assertRaises(WhittleError) as e:
            w.submit(
                TrainJobRequest(
                    kind="train",
                    spec=TrainSpec(dataset_id=missing, architecture=ArchitectureSpec(hidden=[8])),
                )
            )
        self.assertEqual(e.exception.status, 422)
        self.assertIn("spec.dataset_id", e.exception.fields())

    def test_unknown_job_and_bad_key(self) -> None:
        w = _client(self)
        with self.assertRaises(WhittleError) as e:
            w.get_job(uuid.uuid4())
        self.assertEqual(e.exception.status, 404)
        bad = _client(self, key="wh_not_a_key")
        with self.assertRaises(WhittleError) as e:
            bad.get_job(uuid.uuid4())
        self.assertEqual(e.exception.status, 401)

    def test_a_failed_job_raises_job_failed(self) -> None:
        w = _client(self)
        model = w.upload_model(FIXTURES / "digits_mlp.safetensors")
        # 99 % magnitude pruning with a 0.1 % tolerable loss cannot hold: the job fails.
        test = w.upload_dataset(FIXTURES / "digits_test.csv")
        from whittle_client.models import PruneJobRequest, PruneSpec

        spec = PruneSpec.from_dict(
            {
                "model_id": str(model.id),
                "method": "magnitude",
                "sparsity": 0.99,
                "eval_dataset_id": str(test.id),
                "tolerable_loss": 0.001,
            }
        )
        with self.assertRaises(JobFailed) as e:
            w.wait(w.submit(PruneJobRequest(kind="prune", spec=spec)), timeout=300)
        self.assertEqual(e.exception.job.state.value, "failed")
        self.assertTrue(e.exception.job.error)


if __name__ == "__main__":
    unittest.main()
