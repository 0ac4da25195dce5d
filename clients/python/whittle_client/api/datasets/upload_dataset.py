from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dataset_dto import DatasetDto
from ...models.dataset_format import DatasetFormat
from ...models.problem import Problem
from ...models.upload_dataset_task import UploadDatasetTask
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File,
    name: str | Unset = UNSET,
    target: str | Unset = UNSET,
    task: UploadDatasetTask | Unset = UNSET,
    format_: DatasetFormat | Unset = UNSET,
    text: str | Unset = UNSET,
    text_pair: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["name"] = name

    params["target"] = target

    json_task: str | Unset = UNSET
    if not isinstance(task, Unset):
        json_task = task.value

    params["task"] = json_task

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params["text"] = text

    params["text_pair"] = text_pair

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/datasets",
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DatasetDto | Problem | None:
    if response.status_code == 201:
        response_201 = DatasetDto.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DatasetDto | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    name: str | Unset = UNSET,
    target: str | Unset = UNSET,
    task: UploadDatasetTask | Unset = UNSET,
    format_: DatasetFormat | Unset = UNSET,
    text: str | Unset = UNSET,
    text_pair: str | Unset = UNSET,
) -> Response[DatasetDto | Problem]:
    """Upload a dataset.

     CSV: a header row, numeric feature columns and a target column chosen with `target`
    (default: last). NPY: a 2-D numeric array whose target column is `target` (an index,
    default last). Text: JSON Lines (`application/jsonl`), or a CSV with a `text` column,
    holding `text`, optionally `text_pair` and a label (`target`, default `label`). Bad cells
    are reported with their line and column.

    Args:
        name (str | Unset):
        target (str | Unset):
        task (UploadDatasetTask | Unset):
        format_ (DatasetFormat | Unset): Dataset file formats.
        text (str | Unset):
        text_pair (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DatasetDto | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        target=target,
        task=task,
        format_=format_,
        text=text,
        text_pair=text_pair,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    name: str | Unset = UNSET,
    target: str | Unset = UNSET,
    task: UploadDatasetTask | Unset = UNSET,
    format_: DatasetFormat | Unset = UNSET,
    text: str | Unset = UNSET,
    text_pair: str | Unset = UNSET,
) -> DatasetDto | Problem | None:
    """Upload a dataset.

     CSV: a header row, numeric feature columns and a target column chosen with `target`
    (default: last). NPY: a 2-D numeric array whose target column is `target` (an index,
    default last). Text: JSON Lines (`application/jsonl`), or a CSV with a `text` column,
    holding `text`, optionally `text_pair` and a label (`target`, default `label`). Bad cells
    are reported with their line and column.

    Args:
        name (str | Unset):
        target (str | Unset):
        task (UploadDatasetTask | Unset):
        format_ (DatasetFormat | Unset): Dataset file formats.
        text (str | Unset):
        text_pair (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DatasetDto | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        name=name,
        target=target,
        task=task,
        format_=format_,
        text=text,
        text_pair=text_pair,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    name: str | Unset = UNSET,
    target: str | Unset = UNSET,
    task: UploadDatasetTask | Unset = UNSET,
    format_: DatasetFormat | Unset = UNSET,
    text: str | Unset = UNSET,
    text_pair: str | Unset = UNSET,
) -> Response[DatasetDto | Problem]:
    """Upload a dataset.

     CSV: a header row, numeric feature columns and a target column chosen with `target`
    (default: last). NPY: a 2-D numeric array whose target column is `target` (an index,
    default last). Text: JSON Lines (`application/jsonl`), or a CSV with a `text` column,
    holding `text`, optionally `text_pair` and a label (`target`, default `label`). Bad cells
    are reported with their line and column.

    Args:
        name (str | Unset):
        target (str | Unset):
        task (UploadDatasetTask | Unset):
        format_ (DatasetFormat | Unset): Dataset file formats.
        text (str | Unset):
        text_pair (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DatasetDto | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        target=target,
        task=task,
        format_=format_,
        text=text,
        text_pair=text_pair,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: File,
    name: str | Unset = UNSET,
    target: str | Unset = UNSET,
    task: UploadDatasetTask | Unset = UNSET,
    format_: DatasetFormat | Unset = UNSET,
    text: str | Unset = UNSET,
    text_pair: str | Unset = UNSET,
) -> DatasetDto | Problem | None:
    """Upload a dataset.

     CSV: a header row, numeric feature columns and a target column chosen with `target`
    (default: last). NPY: a 2-D numeric array whose target column is `target` (an index,
    default last). Text: JSON Lines (`application/jsonl`), or a CSV with a `text` column,
    holding `text`, optionally `text_pair` and a label (`target`, default `label`). Bad cells
    are reported with their line and column.

    Args:
        name (str | Unset):
        target (str | Unset):
        task (UploadDatasetTask | Unset):
        format_ (DatasetFormat | Unset): Dataset file formats.
        text (str | Unset):
        text_pair (str | Unset):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DatasetDto | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            name=name,
            target=target,
            task=task,
            format_=format_,
            text=text,
            text_pair=text_pair,
        )
    ).parsed
