from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.model_dto import ModelDto
from ...models.model_upload_form import ModelUploadForm
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File | ModelUploadForm | Unset = UNSET,
    name: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["name"] = name

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/models",
        "params": params,
    }

    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/octet-stream"
    if isinstance(body, ModelUploadForm):
        _kwargs["files"] = body.to_multipart()

        headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ModelDto | Problem | None:
    if response.status_code == 201:
        response_201 = ModelDto.from_dict(response.json())

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

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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
    *,
    client: AuthenticatedClient | Client,
    body: File | ModelUploadForm | Unset = UNSET,
    name: str | Unset = UNSET,
) -> Response[ModelDto | Problem]:
    """Upload a safetensors model or a model folder.

     - One file: the raw body (`application/octet-stream`), or `multipart/form-data` with one
      `file` part (and an optional `name` part).
    - A Hugging Face folder: `multipart/form-data` with one part per file, each part's file
      name its relative path (`config.json`, `model-00001-of-00002.safetensors`,
      `model.safetensors.index.json`, tokenizer files, …), or an uncompressed `.tar` body
      (`Content-Type: application/x-tar`; one top-level directory is stripped). The index
      must agree with the shards; side files are capped (configuration JSON at 4 MiB).

    Pickle checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`), code files
    (`*.py`: remote code) and ONNX files are refused with 415 naming the file.

    Args:
        name (str | Unset):
        body (File):
        body (ModelUploadForm): The parts of a `multipart/form-data` model upload (documentation
            of the form the
            handler reads part by part).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ModelDto | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: File | ModelUploadForm | Unset = UNSET,
    name: str | Unset = UNSET,
) -> ModelDto | Problem | None:
    """Upload a safetensors model or a model folder.

     - One file: the raw body (`application/octet-stream`), or `multipart/form-data` with one
      `file` part (and an optional `name` part).
    - A Hugging Face folder: `multipart/form-data` with one part per file, each part's file
      name its relative path (`config.json`, `model-00001-of-00002.safetensors`,
      `model.safetensors.index.json`, tokenizer files, …), or an uncompressed `.tar` body
      (`Content-Type: application/x-tar`; one top-level directory is stripped). The index
      must agree with the shards; side files are capped (configuration JSON at 4 MiB).

    Pickle checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`), code files
    (`*.py`: remote code) and ONNX files are refused with 415 naming the file.

    Args:
        name (str | Unset):
        body (File):
        body (ModelUploadForm): The parts of a `multipart/form-data` model upload (documentation
            of the form the
            handler reads part by part).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ModelDto | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        name=name,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File | ModelUploadForm | Unset = UNSET,
    name: str | Unset = UNSET,
) -> Response[ModelDto | Problem]:
    """Upload a safetensors model or a model folder.

     - One file: the raw body (`application/octet-stream`), or `multipart/form-data` with one
      `file` part (and an optional `name` part).
    - A Hugging Face folder: `multipart/form-data` with one part per file, each part's file
      name its relative path (`config.json`, `model-00001-of-00002.safetensors`,
      `model.safetensors.index.json`, tokenizer files, …), or an uncompressed `.tar` body
      (`Content-Type: application/x-tar`; one top-level directory is stripped). The index
      must agree with the shards; side files are capped (configuration JSON at 4 MiB).

    Pickle checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`), code files
    (`*.py`: remote code) and ONNX files are refused with 415 naming the file.

    Args:
        name (str | Unset):
        body (File):
        body (ModelUploadForm): The parts of a `multipart/form-data` model upload (documentation
            of the form the
            handler reads part by part).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ModelDto | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: File | ModelUploadForm | Unset = UNSET,
    name: str | Unset = UNSET,
) -> ModelDto | Problem | None:
    """Upload a safetensors model or a model folder.

     - One file: the raw body (`application/octet-stream`), or `multipart/form-data` with one
      `file` part (and an optional `name` part).
    - A Hugging Face folder: `multipart/form-data` with one part per file, each part's file
      name its relative path (`config.json`, `model-00001-of-00002.safetensors`,
      `model.safetensors.index.json`, tokenizer files, …), or an uncompressed `.tar` body
      (`Content-Type: application/x-tar`; one top-level directory is stripped). The index
      must agree with the shards; side files are capped (configuration JSON at 4 MiB).

    Pickle checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`), code files
    (`*.py`: remote code) and ONNX files are refused with 415 naming the file.

    Args:
        name (str | Unset):
        body (File):
        body (ModelUploadForm): The parts of a `multipart/form-data` model upload (documentation
            of the form the
            handler reads part by part).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ModelDto | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            name=name,
        )
    ).parsed
