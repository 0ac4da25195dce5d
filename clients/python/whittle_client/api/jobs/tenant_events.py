from http import HTTPStatus
from typing import Any

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
    *,
    kind: str | Unset = UNSET,
    state: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    last_event_id_query: int | Unset = UNSET,
    last_event_id_header: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id_header, Unset):
        headers["Last-Event-ID"] = last_event_id_header

    params: dict[str, Any] = {}

    params["kind"] = kind

    params["state"] = state

    params["type"] = type_

    params["last_event_id"] = last_event_id_query

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/events",
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
    *,
    client: AuthenticatedClient | Client,
    kind: str | Unset = UNSET,
    state: str | Unset = UNSET,
    type_: str | Unset = UNSET,
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
    """Stream the tenant's events across jobs (filtered by job kind, job state and event type).

     Starts with the next event, or replays events after `Last-Event-ID` (the `id` of an
    event of this stream); never ends by itself. On Postgres an event behind an id that
    another transaction is still writing waits until that one commits (at most 0.3 s), so
    that a resumed stream misses none.

    Args:
        kind (str | Unset):
        state (str | Unset):
        type_ (str | Unset):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem]
    """

    kwargs = _get_kwargs(
        kind=kind,
        state=state,
        type_=type_,
        last_event_id_query=last_event_id_query,
        last_event_id_header=last_event_id_header,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    kind: str | Unset = UNSET,
    state: str | Unset = UNSET,
    type_: str | Unset = UNSET,
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
    """Stream the tenant's events across jobs (filtered by job kind, job state and event type).

     Starts with the next event, or replays events after `Last-Event-ID` (the `id` of an
    event of this stream); never ends by itself. On Postgres an event behind an id that
    another transaction is still writing waits until that one commits (at most 0.3 s), so
    that a resumed stream misses none.

    Args:
        kind (str | Unset):
        state (str | Unset):
        type_ (str | Unset):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem
    """

    return sync_detailed(
        client=client,
        kind=kind,
        state=state,
        type_=type_,
        last_event_id_query=last_event_id_query,
        last_event_id_header=last_event_id_header,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    kind: str | Unset = UNSET,
    state: str | Unset = UNSET,
    type_: str | Unset = UNSET,
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
    """Stream the tenant's events across jobs (filtered by job kind, job state and event type).

     Starts with the next event, or replays events after `Last-Event-ID` (the `id` of an
    event of this stream); never ends by itself. On Postgres an event behind an id that
    another transaction is still writing waits until that one commits (at most 0.3 s), so
    that a resumed stream misses none.

    Args:
        kind (str | Unset):
        state (str | Unset):
        type_ (str | Unset):
        last_event_id_query (int | Unset):
        last_event_id_header (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress | JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial | Problem]
    """

    kwargs = _get_kwargs(
        kind=kind,
        state=state,
        type_=type_,
        last_event_id_query=last_event_id_query,
        last_event_id_header=last_event_id_header,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    kind: str | Unset = UNSET,
    state: str | Unset = UNSET,
    type_: str | Unset = UNSET,
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
    """Stream the tenant's events across jobs (filtered by job kind, job state and event type).

     Starts with the next event, or replays events after `Last-Event-ID` (the `id` of an
    event of this stream); never ends by itself. On Postgres an event behind an id that
    another transaction is still writing waits until that one commits (at most 0.3 s), so
    that a resumed stream misses none.

    Args:
        kind (str | Unset):
        state (str | Unset):
        type_ (str | Unset):
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
            client=client,
            kind=kind,
            state=state,
            type_=type_,
            last_event_id_query=last_event_id_query,
            last_event_id_header=last_event_id_header,
        )
    ).parsed
