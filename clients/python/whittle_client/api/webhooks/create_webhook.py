from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_webhook_request import CreateWebhookRequest
from ...models.problem import Problem
from ...models.webhook_with_secret import WebhookWithSecret
from ...types import Response


def _get_kwargs(
    *,
    body: CreateWebhookRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/webhooks",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookWithSecret | None:
    if response.status_code == 201:
        response_201 = WebhookWithSecret.from_dict(response.json())

        return response_201

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | WebhookWithSecret]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateWebhookRequest,
) -> Response[Problem | WebhookWithSecret]:
    """Subscribe to job events.

     Every event of a subscribed type, of any of the tenant's jobs, is POSTed to `url` as a
    `WebhookPayload` signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's
    key). A 2xx answer is a delivery; anything else is retried with exponential backoff, and
    a webhook whose attempts keep failing is disabled (`disabled_reason`). The answer holds
    the secret: it is not shown again (rotate it to get a new one).

    Args:
        body (CreateWebhookRequest): Body of `POST /v1/webhooks`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookWithSecret]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: CreateWebhookRequest,
) -> Problem | WebhookWithSecret | None:
    """Subscribe to job events.

     Every event of a subscribed type, of any of the tenant's jobs, is POSTed to `url` as a
    `WebhookPayload` signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's
    key). A 2xx answer is a delivery; anything else is retried with exponential backoff, and
    a webhook whose attempts keep failing is disabled (`disabled_reason`). The answer holds
    the secret: it is not shown again (rotate it to get a new one).

    Args:
        body (CreateWebhookRequest): Body of `POST /v1/webhooks`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookWithSecret
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateWebhookRequest,
) -> Response[Problem | WebhookWithSecret]:
    """Subscribe to job events.

     Every event of a subscribed type, of any of the tenant's jobs, is POSTed to `url` as a
    `WebhookPayload` signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's
    key). A 2xx answer is a delivery; anything else is retried with exponential backoff, and
    a webhook whose attempts keep failing is disabled (`disabled_reason`). The answer holds
    the secret: it is not shown again (rotate it to get a new one).

    Args:
        body (CreateWebhookRequest): Body of `POST /v1/webhooks`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookWithSecret]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: CreateWebhookRequest,
) -> Problem | WebhookWithSecret | None:
    """Subscribe to job events.

     Every event of a subscribed type, of any of the tenant's jobs, is POSTed to `url` as a
    `WebhookPayload` signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's
    key). A 2xx answer is a delivery; anything else is retried with exponential backoff, and
    a webhook whose attempts keep failing is disabled (`disabled_reason`). The answer holds
    the secret: it is not shown again (rotate it to get a new one).

    Args:
        body (CreateWebhookRequest): Body of `POST /v1/webhooks`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookWithSecret
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
