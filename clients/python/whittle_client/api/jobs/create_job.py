from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.analyze_job import AnalyzeJob
from ...models.analyze_job_request import AnalyzeJobRequest
from ...models.evaluate_job import EvaluateJob
from ...models.evaluate_job_request import EvaluateJobRequest
from ...models.problem import Problem
from ...models.prune_job import PruneJob
from ...models.prune_job_request import PruneJobRequest
from ...models.quantize_job import QuantizeJob
from ...models.quantize_job_request import QuantizeJobRequest
from ...models.train_job import TrainJob
from ...models.train_job_request import TrainJobRequest
from ...models.trial_job import TrialJob
from ...models.tune_job import TuneJob
from ...models.tune_job_request import TuneJobRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: AnalyzeJobRequest
    | EvaluateJobRequest
    | PruneJobRequest
    | QuantizeJobRequest
    | TrainJobRequest
    | TuneJobRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs",
    }

    if (
        isinstance(body, AnalyzeJobRequest)
        or isinstance(body, TrainJobRequest)
        or isinstance(body, EvaluateJobRequest)
        or isinstance(body, QuantizeJobRequest)
        or isinstance(body, PruneJobRequest)
    ):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    AnalyzeJob
    | EvaluateJob
    | PruneJob
    | QuantizeJob
    | TrainJob
    | TrialJob
    | TuneJob
    | Problem
    | None
):
    if response.status_code == 202:

        def _parse_response_202(
            data: object,
        ) -> (
            AnalyzeJob
            | EvaluateJob
            | PruneJob
            | QuantizeJob
            | TrainJob
            | TrialJob
            | TuneJob
        ):
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_0 = AnalyzeJob.from_dict(data)

                return componentsschemas_job_dto_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_1 = TrainJob.from_dict(data)

                return componentsschemas_job_dto_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_2 = EvaluateJob.from_dict(data)

                return componentsschemas_job_dto_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_3 = QuantizeJob.from_dict(data)

                return componentsschemas_job_dto_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_4 = PruneJob.from_dict(data)

                return componentsschemas_job_dto_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_5 = TuneJob.from_dict(data)

                return componentsschemas_job_dto_type_5
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_job_dto_type_6 = TrialJob.from_dict(data)

            return componentsschemas_job_dto_type_6

        response_202 = _parse_response_202(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    AnalyzeJob
    | EvaluateJob
    | PruneJob
    | QuantizeJob
    | TrainJob
    | TrialJob
    | TuneJob
    | Problem
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AnalyzeJobRequest
    | EvaluateJobRequest
    | PruneJobRequest
    | QuantizeJobRequest
    | TrainJobRequest
    | TuneJobRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[
    AnalyzeJob
    | EvaluateJob
    | PruneJob
    | QuantizeJob
    | TrainJob
    | TrialJob
    | TuneJob
    | Problem
]:
    """Submit a job.

     Answers 202 with the queued job and its `Location`. With an `Idempotency-Key` header, a
    repeated request returns the job the first one created (even when sent concurrently);
    reusing a key for a different request is a 409.

    Args:
        idempotency_key (None | str | Unset):
        body (AnalyzeJobRequest | EvaluateJobRequest | PruneJobRequest | QuantizeJobRequest |
            TrainJobRequest | TuneJobRequest): Body of `POST /v1/jobs`: the kind and its spec.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: AnalyzeJobRequest
    | EvaluateJobRequest
    | PruneJobRequest
    | QuantizeJobRequest
    | TrainJobRequest
    | TuneJobRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> (
    AnalyzeJob
    | EvaluateJob
    | PruneJob
    | QuantizeJob
    | TrainJob
    | TrialJob
    | TuneJob
    | Problem
    | None
):
    """Submit a job.

     Answers 202 with the queued job and its `Location`. With an `Idempotency-Key` header, a
    repeated request returns the job the first one created (even when sent concurrently);
    reusing a key for a different request is a 409.

    Args:
        idempotency_key (None | str | Unset):
        body (AnalyzeJobRequest | EvaluateJobRequest | PruneJobRequest | QuantizeJobRequest |
            TrainJobRequest | TuneJobRequest): Body of `POST /v1/jobs`: the kind and its spec.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AnalyzeJobRequest
    | EvaluateJobRequest
    | PruneJobRequest
    | QuantizeJobRequest
    | TrainJobRequest
    | TuneJobRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[
    AnalyzeJob
    | EvaluateJob
    | PruneJob
    | QuantizeJob
    | TrainJob
    | TrialJob
    | TuneJob
    | Problem
]:
    """Submit a job.

     Answers 202 with the queued job and its `Location`. With an `Idempotency-Key` header, a
    repeated request returns the job the first one created (even when sent concurrently);
    reusing a key for a different request is a 409.

    Args:
        idempotency_key (None | str | Unset):
        body (AnalyzeJobRequest | EvaluateJobRequest | PruneJobRequest | QuantizeJobRequest |
            TrainJobRequest | TuneJobRequest): Body of `POST /v1/jobs`: the kind and its spec.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: AnalyzeJobRequest
    | EvaluateJobRequest
    | PruneJobRequest
    | QuantizeJobRequest
    | TrainJobRequest
    | TuneJobRequest,
    idempotency_key: None | str | Unset = UNSET,
) -> (
    AnalyzeJob
    | EvaluateJob
    | PruneJob
    | QuantizeJob
    | TrainJob
    | TrialJob
    | TuneJob
    | Problem
    | None
):
    """Submit a job.

     Answers 202 with the queued job and its `Location`. With an `Idempotency-Key` header, a
    repeated request returns the job the first one created (even when sent concurrently);
    reusing a key for a different request is a 409.

    Args:
        idempotency_key (None | str | Unset):
        body (AnalyzeJobRequest | EvaluateJobRequest | PruneJobRequest | QuantizeJobRequest |
            TrainJobRequest | TuneJobRequest): Body of `POST /v1/jobs`: the kind and its spec.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
