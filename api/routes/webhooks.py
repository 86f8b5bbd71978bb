"""Webhooks: each participant (and the operator, and the regulator) manages its own; another's is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import PrincipalDep
from api.deps import PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.common import Page
from api.schemas.lifecycle import NoBody
from api.schemas.webhooks import (
    DeliveryAttemptOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPingOut,
    WebhookSecretOut,
)
from api.services import webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
ERRORS = error_responses(401, 403, 404, 409, 422, 503)
WebhookId = Annotated[str, Path(max_length=36, description="A webhook's id.")]
MessageId = Annotated[str | None, Query(max_length=40, description="One message's attempts only.")]


@router.post("", status_code=201, response_model=WebhookCreated, responses=ERRORS)
def create_webhook(
    body: WebhookIn, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> WebhookCreated:
    """Subscribe a URL of mine to event types; the answer holds the signing secret, this once.

    Not replayed from an `Idempotency-Key` (the gateway never stores the secret in clear): a retry finds
    the webhook made by the first try (409 `WEBHOOK_EXISTS`, its id in `details`)."""
    return webhooks.create_subscription(state.settings, session, principal.participant_id, body)


@router.get("", response_model=Page[WebhookOut], responses=ERRORS)
def list_webhooks(principal: PrincipalDep, session: SessionDep, paging: PagingDep) -> Page[WebhookOut]:
    """My webhooks, active and disabled."""
    return webhooks.list_subscriptions(session, principal.participant_id, paging.limit, paging.offset)


@router.get("/{webhook_id}", response_model=WebhookOut, responses=ERRORS)
def read_webhook(webhook_id: WebhookId, principal: PrincipalDep, session: SessionDep) -> WebhookOut:
    """One webhook of mine."""
    return webhooks.read_subscription(session, principal.participant_id, webhook_id)


@router.delete("/{webhook_id}", response_model=WebhookOut, responses=ERRORS)
def delete_webhook(webhook_id: WebhookId, principal: PrincipalDep, session: SessionDep) -> WebhookOut:
    """Disable a webhook of mine: nothing more is sent, what was pending is cancelled; its log is kept."""
    return webhooks.delete_subscription(session, principal.participant_id, webhook_id)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookSecretOut, responses=ERRORS)
def rotate_webhook_secret(
    webhook_id: WebhookId, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> WebhookSecretOut:
    """A new signing secret (shown once; not replayed from an `Idempotency-Key`). The previous one still
    signs alongside it for a while (`previous_secret_expires_at`)."""
    return webhooks.rotate_secret(state.settings, session, principal.participant_id, webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryAttemptOut], responses=ERRORS)
def webhook_deliveries(
    webhook_id: WebhookId,
    principal: PrincipalDep,
    session: SessionDep,
    paging: PagingDep,
    message_id: MessageId = None,
) -> Page[DeliveryAttemptOut]:
    """The delivery log: every attempt, newest first, with its HTTP status or error and the next retry."""
    pid = principal.participant_id
    return webhooks.deliveries(session, pid, webhook_id, message_id, paging.limit, paging.offset)


@router.post("/{webhook_id}/ping", status_code=202, response_model=WebhookPingOut, responses=ERRORS)
def ping_webhook(
    webhook_id: WebhookId, principal: PrincipalDep, session: SessionDep, idem: IdempotencyDep
) -> WebhookPingOut:
    """Queue a `webhook.ping` to this webhook; follow it in the delivery log by its `message_id`."""
    return idem.run(NoBody(), lambda: webhooks.ping(session, principal.participant_id, webhook_id))
