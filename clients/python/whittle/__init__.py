"""The official Python client of whittle.

Two halves:

- ``whittle_client`` is generated from the server's OpenAPI document by
  openapi-python-client (``clients/python/generate.sh``): every operation, and one typed
  model per spec, result and job kind (``TrainJobRequest``, ``TrainSpec``, ``TrainJob``,
  ``FitResult``, ...).
- ``whittle.Whittle`` (this module) adds what generation cannot give: streaming uploads of
  files and model folders, waiting for a job (long-poll) with progress, a job's event
  stream (server-sent events, resumed after a dropped connection), downloading a model to disk, and
  errors raised as ``WhittleError`` with the server's problem details.

    from whittle import Whittle
    from whittle_client.models import TrainJobRequest, TrainSpec, ArchitectureSpec

    w = Whittle("http://127.0.0.1:8080", api_key="wh_...")
    data = w.upload_dataset("train.csv")
    job = w.submit(TrainJobRequest(kind="train", spec=TrainSpec(
        dataset_id=data.id, architecture=ArchitectureSpec(hidden=[64]), epochs=5)))
    job = w.wait(job, timeout=600, on_progress=lambda j: print(j.progress))
    w.download(job.output_model_id, "model.safetensors")
"""

from __future__ import annotations

import json
import os
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Optional, Union

import httpx

from whittle_client import AuthenticatedClient, Client
from whittle_client.api.datasets import get_dataset as _get_dataset
from whittle_client.api.jobs import cancel_job as _cancel_job
from whittle_client.api.jobs import create_job as _create_job
from whittle_client.api.jobs import get_job as _get_job
from whittle_client.api.models import get_model as _get_model
from whittle_client.models import DatasetDto, ModelDto, Problem
from whittle_client.types import Response

__all__ = ["Whittle", "WhittleError", "JobFailed", "JobTimeout"]

Id = Union[str, uuid.UUID]

_TERMINAL = {"succeeded", "failed", "canceled"}
_CHUNK = 1 << 20


class WhittleError(Exception):
    """An error response: its status and the problem+json the server sent."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.title: str = problem.get("title") or ""
        self.detail: str = problem.get("detail") or ""
        #: ``[{"field": ..., "message": ...}]`` for invalid requests.
        self.errors: list[dict[str, Any]] = list(problem.get("errors") or [])
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors)
        super().__init__(f"{status} {self.title}: {self.detail}" + (f" ({fields})" if fields else ""))

    def fields(self) -> list[str]:
        """The request fields the server named as invalid."""
        return [str(e.get("field")) for e in self.errors]


class JobFailed(Exception):
    """A waited-for job ended failed or canceled; ``job`` is its last state."""

    def __init__(self, job: Any):
        self.job = job
        super().__init__(f"job {job.id} ended {_state(job)}: {job.error or 'no error message'}")


class JobTimeout(TimeoutError):
    """``wait`` gave up before the job ended; ``job`` is its last state."""

    def __init__(self, job: Any, timeout: float):
        self.job = job
        super().__init__(f"job {job.id} still {_state(job)} after {timeout:g} s")


def _state(job: Any) -> str:
    s = job.state
    return str(getattr(s, "value", s))


def _problem(response: httpx.Response) -> WhittleError:
    try:
        body = response.json()
        if not isinstance(body, dict):
            body = {"detail": str(body)}
    except ValueError:
        body = {"detail": response.text[:500]}
    return WhittleError(response.status_code, body)


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise _problem(response)


def _unwrap(response: Response[Any]) -> Any:
    """The parsed body of a generated call, or a ``WhittleError`` for an error status."""
    status = int(response.status_code)
    if status >= 400 or response.parsed is None or isinstance(response.parsed, Problem):
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            body = {"detail": response.content[:500].decode("utf-8", "replace")}
        raise WhittleError(status, body if isinstance(body, dict) else {"detail": str(body)})
    return response.parsed


def _read_chunks(f: BinaryIO) -> Iterator[bytes]:
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return
        yield chunk


class Whittle:
    """A whittle server: the generated client (``self.api``) plus uploads, waits and downloads."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        api_key: Optional[str] = None,
        timeout: float = 300.0,
    ):
        self.base_url = base_url.rstrip("/")
        t = httpx.Timeout(timeout, connect=10.0)
        #: The generated client: pass it as ``client=`` to any ``whittle_client.api`` call.
        self.api: Union[AuthenticatedClient, Client] = (
            AuthenticatedClient(base_url=self.base_url, token=api_key, timeout=t)
            if api_key
            else Client(base_url=self.base_url, timeout=t)
        )

    def close(self) -> None:
        """Close the connections."""
        self.api.get_httpx_client().close()

    def __enter__(self) -> "Whittle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def http(self) -> httpx.Client:
        """The underlying httpx client (base URL and key set)."""
        return self.api.get_httpx_client()

    # Uploads -------------------------------------------------------------------------

    def upload_model(self, path: Union[str, os.PathLike], name: Optional[str] = None) -> ModelDto:
        """Upload a ``.safetensors`` file (streamed as the raw body) or a Hugging Face model
        folder (one multipart part per file, each named by its relative path)."""
        p = Path(path)
        params = {"name": name} if name else {}
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file())
            if not files:
                raise ValueError(f"{p} holds no files")
            handles = [f.open("rb") for f in files]
            try:
                parts = [
                    ("files", (f.relative_to(p).as_posix(), h, "application/octet-stream"))
                    for f, h in zip(files, handles)
                ]
                if name is None:
                    params = {"name": p.name}
                r = self.http.post("/v1/models", params=params, files=parts)
            finally:
                for h in handles:
                    h.close()
        else:
            if name is None:
                params = {"name": p.name}
            with p.open("rb") as f:
                r = self.http.post(
                    "/v1/models",
                    params=params,
                    content=_read_chunks(f),
                    headers={
                        "content-type": "application/octet-stream",
                        "content-length": str(p.stat().st_size),
                    },
                )
        _raise_for(r)
        return ModelDto.from_dict(r.json())

    def upload_dataset(
        self,
        path: Union[str, os.PathLike],
        name: Optional[str] = None,
        format: Optional[str] = None,
        target: Optional[str] = None,
        task: Optional[str] = None,
    ) -> DatasetDto:
        """Upload a CSV, NPY or JSON Lines dataset, streamed from disk. ``format`` defaults to
        the file's extension; ``target``/``task`` are passed through for CSV."""
        p = Path(path)
        params: dict[str, str] = {"name": name or p.name}
        ext = p.suffix.lower().lstrip(".")
        fmt = format or {"csv": "csv", "npy": "npy", "jsonl": "jsonl"}.get(ext)
        if fmt:
            params["format"] = fmt
        if target:
            params["target"] = target
        if task:
            params["task"] = task
        with p.open("rb") as f:
            r = self.http.post(
                "/v1/datasets",
                params=params,
                content=_read_chunks(f),
                headers={
                    "content-type": "application/octet-stream",
                    "content-length": str(p.stat().st_size),
                },
            )
        _raise_for(r)
        return DatasetDto.from_dict(r.json())

    # Jobs ----------------------------------------------------------------------------

    def submit(self, request: Any, idempotency_key: Optional[str] = None) -> Any:
        """Queue a job from a typed request (``TrainJobRequest(kind="train", spec=...)``)
        and return the typed job (``TrainJob``)."""
        kwargs: dict[str, Any] = {"client": self.api, "body": request}
        if idempotency_key is not None:
            kwargs["idempotency_key"] = idempotency_key
        return _unwrap(_create_job.sync_detailed(**kwargs))

    def get_job(self, job_id: Id) -> Any:
        """The job, typed by its kind (``TrainJob``, ``QuantizeJob``, ``TrialJob``, ...)."""
        return _unwrap(_get_job.sync_detailed(id=_uuid(job_id), client=self.api))

    def cancel(self, job: Any) -> Any:
        """Cancel a queued or running job."""
        return _unwrap(_cancel_job.sync_detailed(id=_uuid(_job_id(job)), client=self.api))

    def wait(
        self,
        job: Any,
        timeout: float = 3600.0,
        poll: float = 0.25,
        on_progress: Optional[Callable[[Any], None]] = None,
        raise_on_failure: bool = True,
    ) -> Any:
        """Wait until the job ends; returns it typed. ``on_progress(job)`` is called whenever
        its state, progress or message changes (the job's event stream says when). A failed or
        canceled job raises ``JobFailed`` (unless ``raise_on_failure=False``); ``JobTimeout``
        after ``timeout``. ``poll`` is the fallback interval should streaming fail."""
        deadline = time.monotonic() + timeout
        job_id = _job_id(job)
        if on_progress is not None:
            seen: Optional[tuple] = None
            try:
                for event in self.events(job_id, timeout=timeout):
                    if event["type"] in ("job.metric", "job.trial"):
                        continue
                    current = self.get_job(job_id)
                    key = (_state(current), current.progress, current.progress_message)
                    if key != seen:
                        on_progress(current)
                        seen = key
            except httpx.TransportError:
                pass  # fall back to long-polling below
        while True:
            left = deadline - time.monotonic()
            asked = time.monotonic()
            # Long-poll: the server answers as soon as the job ends (at most 60 s per call).
            current = _unwrap(
                _get_job.sync_detailed(
                    id=_uuid(job_id), client=self.api, wait=max(0.0, min(60.0, left))
                )
            )
            if _state(current) in _TERMINAL:
                if on_progress is not None:
                    on_progress(current)
                if raise_on_failure and _state(current) != "succeeded":
                    raise JobFailed(current)
                return current
            if time.monotonic() >= deadline:
                raise JobTimeout(current, timeout)
            if time.monotonic() - asked < poll:
                # Answered early without an end (a proxy cutting long requests short).
                time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def events(
        self, job: Any, last_event_id: Optional[int] = None, timeout: float = 3600.0
    ) -> Iterator[dict[str, Any]]:
        """The job's events (``{"seq", "type", "data", "state", "at", ...}`` dicts): every
        past one after ``last_event_id``, then live ones until the job ends. A dropped
        connection is resumed with ``Last-Event-ID``, so no event is missed or repeated."""
        job_id = _job_id(job)
        last = last_event_id
        deadline = time.monotonic() + timeout
        while True:
            headers = {"accept": "text/event-stream"}
            if last is not None:
                headers["last-event-id"] = str(last)
            try:
                # The server sends a comment every 15 s, so a minute of silence is a dead link.
                with self.http.stream(
                    "GET",
                    f"/v1/jobs/{job_id}/events",
                    headers=headers,
                    timeout=httpx.Timeout(30.0, read=60.0),
                ) as r:
                    if r.status_code != 200:
                        r.read()
                        raise _problem(r)
                    data: list[str] = []
                    for line in r.iter_lines():
                        if line.startswith("data:"):
                            data.append(line[5:].lstrip())
                        elif line == "" and data:
                            event = json.loads("\n".join(data))
                            data = []
                            last = event["seq"]
                            yield event
                return
            except (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    # Models and datasets -------------------------------------------------------------

    def get_model(self, model_id: Id) -> ModelDto:
        return _unwrap(_get_model.sync_detailed(id=_uuid(model_id), client=self.api))

    def get_dataset(self, dataset_id: Id) -> DatasetDto:
        return _unwrap(_get_dataset.sync_detailed(id=_uuid(dataset_id), client=self.api))

    def download(self, model_id: Id, path: Union[str, os.PathLike]) -> Path:
        """Stream a model to ``path``: a ``.safetensors`` file, or for a model folder the
        folder itself (the server's tar is unpacked into the directory ``path``)."""
        dest = Path(path)
        with self.http.stream("GET", f"/v1/models/{_uuid(model_id)}/content") as r:
            if r.status_code >= 400:
                r.read()
                raise _problem(r)
            is_tar = r.headers.get("content-type", "").startswith("application/x-tar")
            tmp = dest.with_name(dest.name + ".part")
            with tmp.open("wb") as f:
                for chunk in r.iter_bytes(_CHUNK):
                    f.write(chunk)
        if not is_tar:
            tmp.replace(dest)
            return dest
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tmp) as tar:
            tar.extractall(dest, filter="data")
        tmp.unlink()
        return dest


def _job_id(job: Any) -> Id:
    return job if isinstance(job, (str, uuid.UUID)) else job.id


def _uuid(value: Id) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
