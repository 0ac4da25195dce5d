from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.model_dto import ModelDto
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    tensors_offset: int | Unset = UNSET,
    tensors_limit: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["tensors_offset"] = tensors_offset

    params["tensors_limit"] = tensors_limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/models/{id}".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ModelDto | Problem | None:
    if response.status_code == 200:
        response_200 = ModelDto.from_dict(response.json())

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
) -> Response[ModelDto | Problem]:
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
    tensors_offset: int | Unset = UNSET,
    tensors_limit: int | Unset = UNSET,
) -> Response[ModelDto | Problem]:
    """Get one model with its tensor inventory.

     The inventory is paginated: `tensors` lists at most `tensors_limit` tensors (default and
    maximum 10000) from `tensors_offset`; `tensors_next_offset` is present when more follow.

    Args:
        id (UUID):
        tensors_offset (int | Unset):
        tensors_limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ModelDto | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        tensors_offset=tensors_offset,
        tensors_limit=tensors_limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    tensors_offset: int | Unset = UNSET,
    tensors_limit: int | Unset = UNSET,
) -> ModelDto | Problem | None:
    """Get one model with its tensor inventory.

     The inventory is paginated: `tensors` lists at most `tensors_limit` tensors (default and
    maximum 10000) from `tensors_offset`; `tensors_next_offset` is present when more follow.

    Args:
        id (UUID):
        tensors_offset (int | Unset):
        tensors_limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ModelDto | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        tensors_offset=tensors_offset,
        tensors_limit=tensors_limit,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    tensors_offset: int | Unset = UNSET,
    tensors_limit: int | Unset = UNSET,
) -> Response[ModelDto | Problem]:
    """Get one model with its tensor inventory.

     The inventory is paginated: `tensors` lists at most `tensors_limit` tensors (default and
    maximum 10000) from `tensors_offset`; `tensors_next_offset` is present when more follow.

    Args:
        id (UUID):
        tensors_offset (int | Unset):
        tensors_limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ModelDto | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        tensors_offset=tensors_offset,
        tensors_limit=tensors_limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient | Client,
    tensors_offset: int | Unset = UNSET,
    tensors_limit: int | Unset = UNSET,
) -> ModelDto | Problem | None:
    """Get one model with its tensor inventory.

     The inventory is paginated: `tensors` lists at most `tensors_limit` tensors (default and
    maximum 10000) from `tensors_offset`; `tensors_next_offset` is present when more follow.

    Args:
        id (UUID):
        tensors_offset (int | Unset):
        tensors_limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ModelDto | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            tensors_offset=tensors_offset,
            tensors_limit=tensors_limit,
        )
    ).parsed
