from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.analyze_job import AnalyzeJob
from ...models.evaluate_job import EvaluateJob
from ...models.problem import Problem
from ...models.prune_job import PruneJob
from ...models.quantize_job import QuantizeJob
from ...models.train_job import TrainJob
from ...models.trial_job import TrialJob
from ...models.tune_job import TuneJob
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    wait: float | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["wait"] = wait

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{id}".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

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
    if response.status_code == 200:

        def _parse_response_200(
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

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    wait: float | Unset = UNSET,
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
    """Get a job: state, attempt, progress, result, errors.

     With `?wait=N` the request is a long-poll: it answers as soon as the job is succeeded,
    failed or canceled, or after N seconds (at most 60) with the job as it is then.

    Args:
        id (UUID):
        wait (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        wait=wait,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    wait: float | Unset = UNSET,
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
    """Get a job: state, attempt, progress, result, errors.

     With `?wait=N` the request is a long-poll: it answers as soon as the job is succeeded,
    failed or canceled, or after N seconds (at most 60) with the job as it is then.

    Args:
        id (UUID):
        wait (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        wait=wait,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    wait: float | Unset = UNSET,
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
    """Get a job: state, attempt, progress, result, errors.

     With `?wait=N` the request is a long-poll: it answers as soon as the job is succeeded,
    failed or canceled, or after N seconds (at most 60) with the job as it is then.

    Args:
        id (UUID):
        wait (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        wait=wait,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    wait: float | Unset = UNSET,
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
    """Get a job: state, attempt, progress, result, errors.

     With `?wait=N` the request is a long-poll: it answers as soon as the job is succeeded,
    failed or canceled, or after N seconds (at most 60) with the job as it is then.

    Args:
        id (UUID):
        wait (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            wait=wait,
        )
    ).parsed
