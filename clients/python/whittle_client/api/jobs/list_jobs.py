from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_page import JobPage
from ...models.job_state import JobState
from ...models.list_jobs_kind import ListJobsKind
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: JobState | Unset = UNSET,
    kind: ListJobsKind | Unset = UNSET,
    parent_job_id: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state.value

    params["state"] = json_state

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind

    json_parent_job_id: str | Unset = UNSET
    if not isinstance(parent_job_id, Unset):
        json_parent_job_id = str(parent_job_id)
    params["parent_job_id"] = json_parent_job_id

    params["limit"] = limit

    json_cursor: str | Unset = UNSET
    if not isinstance(cursor, Unset):
        json_cursor = str(cursor)
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JobPage | Problem | None:
    if response.status_code == 200:
        response_200 = JobPage.from_dict(response.json())

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
) -> Response[JobPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    state: JobState | Unset = UNSET,
    kind: ListJobsKind | Unset = UNSET,
    parent_job_id: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
) -> Response[JobPage | Problem]:
    """List jobs, newest first (keyset pagination).

    Args:
        state (JobState | Unset): Lifecycle of a job row. `queued → running → succeeded | failed |
            canceled`, and
            `running → queued` again when an attempt fails with retries left or its lease expires.
        kind (ListJobsKind | Unset):
        parent_job_id (UUID | Unset):
        limit (int | Unset):
        cursor (UUID | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobPage | Problem]
    """

    kwargs = _get_kwargs(
        state=state,
        kind=kind,
        parent_job_id=parent_job_id,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    state: JobState | Unset = UNSET,
    kind: ListJobsKind | Unset = UNSET,
    parent_job_id: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
) -> JobPage | Problem | None:
    """List jobs, newest first (keyset pagination).

    Args:
        state (JobState | Unset): Lifecycle of a job row. `queued → running → succeeded | failed |
            canceled`, and
            `running → queued` again when an attempt fails with retries left or its lease expires.
        kind (ListJobsKind | Unset):
        parent_job_id (UUID | Unset):
        limit (int | Unset):
        cursor (UUID | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobPage | Problem
    """

    return sync_detailed(
        client=client,
        state=state,
        kind=kind,
        parent_job_id=parent_job_id,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    state: JobState | Unset = UNSET,
    kind: ListJobsKind | Unset = UNSET,
    parent_job_id: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
) -> Response[JobPage | Problem]:
    """List jobs, newest first (keyset pagination).

    Args:
        state (JobState | Unset): Lifecycle of a job row. `queued → running → succeeded | failed |
            canceled`, and
            `running → queued` again when an attempt fails with retries left or its lease expires.
        kind (ListJobsKind | Unset):
        parent_job_id (UUID | Unset):
        limit (int | Unset):
        cursor (UUID | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobPage | Problem]
    """

    kwargs = _get_kwargs(
        state=state,
        kind=kind,
        parent_job_id=parent_job_id,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    state: JobState | Unset = UNSET,
    kind: ListJobsKind | Unset = UNSET,
    parent_job_id: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
) -> JobPage | Problem | None:
    """List jobs, newest first (keyset pagination).

    Args:
        state (JobState | Unset): Lifecycle of a job row. `queued → running → succeeded | failed |
            canceled`, and
            `running → queued` again when an attempt fails with retries left or its lease expires.
        kind (ListJobsKind | Unset):
        parent_job_id (UUID | Unset):
        limit (int | Unset):
        cursor (UUID | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            state=state,
            kind=kind,
            parent_job_id=parent_job_id,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
