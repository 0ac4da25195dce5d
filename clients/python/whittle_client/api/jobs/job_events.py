from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_event_cancel_requested import JobEventCancelRequested
from ...models.job_event_canceled import JobEventCanceled
from ...models.job_event_failed import JobEventFailed
from ...models.job_event_metric import JobEventMetric
from ...models.job_event_progress import JobEventProgress
from ...models.job_event_queued import JobEventQueued
from ...models.job_event_retry_scheduled import JobEventRetryScheduled
from ...models.job_event_running import JobEventRunning
from ...models.job_event_succeeded import JobEventSucceeded
from ...models.job_event_trial import JobEventTrial
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    last_event_id_query: int | Unset = UNSET,
    last_event_id_header: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id_header, Unset):
        headers["Last-Event-ID"] = last_event_id_header

    params: dict[str, Any] = {}

    params["last_event_id"] = last_event_id_query

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{id}/events".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    JobEventCanceled
    | JobEventCancelRequested
    | JobEventFailed
    | JobEventMetric
    | JobEventProgress
    | JobEventQueued
    | JobEventRetryScheduled
    | JobEventRunning
    | JobEventSucceeded
    | JobEventTrial
    | Problem
    | None
):
    if response.status_code == 200:

        def _parse_response_200(
            data: object,
        ) -> (
            JobEventCanceled
            | JobEventCancelRequested
            | JobEventFailed
            | JobEventMetric
            | JobEventProgress
            | JobEventQueued
            | JobEventRetryScheduled
            | JobEventRunning
            | JobEventSucceeded
            | JobEventTrial
        ):
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_0 = JobEventQueued.from_dict(data)

                return componentsschemas_job_event_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_1 = JobEventRunning.from_dict(data)

                return componentsschemas_job_event_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_2 = JobEventProgress.from_dict(data)

                return componentsschemas_job_event_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_3 = JobEventMetric.from_dict(data)

                return componentsschemas_job_event_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_4 = JobEventTrial.from_dict(data)

                return componentsschemas_job_event_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_5 = JobEventCancelRequested.from_dict(
                    data
                )

                return componentsschemas_job_event_type_5
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_6 = JobEventRetryScheduled.from_dict(
                    data
                )

                return componentsschemas_job_event_type_6
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_7 = JobEventSucceeded.from_dict(data)

                return componentsschemas_job_event_type_7
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_8 = JobEventFailed.from_dict(data)

                return componentsschemas_job_event_type_8
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_job_event_type_9 = JobEventCanceled.from_dict(data)

            return componentsschemas_job_event_type_9

        response_200 = _parse_response_200(response.text)

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
    JobEventCanceled
    | JobEventCancelRequested
    | JobEventFailed
    | JobEventMetric
    | JobEventProgress
    | JobEventQueued
    | JobEventRetryScheduled
    | JobEventRunning
    | JobEventSucceeded
    | JobEventTrial
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
    last_event_id_query: int | Unset = UNSET,
    last_event_id_header: str | Unset = UNSET,
) -> Response[
    JobEventCanceled
    | JobEventCancelRequested
    | JobEventFailed
    | JobEventMetric
    | JobEventProgress
    | JobEventQueued
    | JobEventRetryScheduled
    | JobEventRunning
    | JobEventSucceeded
    | JobEventTrial
    | Problem
]:
    """Stream a job's events: every past event after `Last-Event-ID`, then live ones until the
    job ends (the stream closes after the terminal event).

     Answers `text/event-stream`: each event has `id:` (the job's `seq`), `event:` (its
    type) and `data:` (a `JobEvent`), and `:` comments every 15 s while nothing happens.
    Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get exactly the missing events.

    Args:
        id (UUID):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        last_event_id_query=last_event_id_query,
        last_event_id_header=last_event_id_header,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    last_event_id_query: int | Unset = UNSET,
    last_event_id_header: str | Unset = UNSET,
) -> (
    JobEventCanceled
    | JobEventCancelRequested
    | JobEventFailed
    | JobEventMetric
    | JobEventProgress
    | JobEventQueued
    | JobEventRetryScheduled
    | JobEventRunning
    | JobEventSucceeded
    | JobEventTrial
    | Problem
    | None
):
    """Stream a job's events: every past event after `Last-Event-ID`, then live ones until the
    job ends (the stream closes after the terminal event).

     Answers `text/event-stream`: each event has `id:` (the job's `seq`), `event:` (its
    type) and `data:` (a `JobEvent`), and `:` comments every 15 s while nothing happens.
    Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get exactly the missing events.

    Args:
        id (UUID):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        last_event_id_query=last_event_id_query,
        last_event_id_header=last_event_id_header,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    last_event_id_query: int | Unset = UNSET,
    last_event_id_header: str | Unset = UNSET,
) -> Response[
    JobEventCanceled
    | JobEventCancelRequested
    | JobEventFailed
    | JobEventMetric
    | JobEventProgress
    | JobEventQueued
    | JobEventRetryScheduled
    | JobEventRunning
    | JobEventSucceeded
    | JobEventTrial
    | Problem
]:
    """Stream a job's events: every past event after `Last-Event-ID`, then live ones until the
    job ends (the stream closes after the terminal event).

     Answers `text/event-stream`: each event has `id:` (the job's `seq`), `event:` (its
    type) and `data:` (a `JobEvent`), and `:` comments every 15 s while nothing happens.
    Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get exactly the missing events.

    Args:
        id (UUID):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        last_event_id_query=last_event_id_query,
        last_event_id_header=last_event_id_header,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    last_event_id_query: int | Unset = UNSET,
    last_event_id_header: str | Unset = UNSET,
) -> (
    JobEventCanceled
    | JobEventCancelRequested
    | JobEventFailed
    | JobEventMetric
    | JobEventProgress
    | JobEventQueued
    | JobEventRetryScheduled
    | JobEventRunning
    | JobEventSucceeded
    | JobEventTrial
    | Problem
    | None
):
    """Stream a job's events: every past event after `Last-Event-ID`, then live ones until the
    job ends (the stream closes after the terminal event).

     Answers `text/event-stream`: each event has `id:` (the job's `seq`), `event:` (its
    type) and `data:` (a `JobEvent`), and `:` comments every 15 s while nothing happens.
    Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get exactly the missing events.

    Args:
        id (UUID):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            last_event_id_query=last_event_id_query,
            last_event_id_header=last_event_id_header,
        )
    ).parsed
