"""Webhooks: subscriptions, their signing secret (shown once), pings and the delivery log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import PlainText


class WebhookIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://erp.example.com/scf/webhooks",
                    "events": ["warehouse.loan.margin_called", "warehouse.alert.recorded"],
                }
            ]
        }
    }

    url: PlainText = Field(
        min_length=1,
        max_length=2048,
        description="Where events are POSTed: https (http only to this host while the gateway allows"
        " loopback receivers), no credentials in it, not a private or link-local address.",
    )
    events: list[PlainText] = Field(
        min_length=1,
        max_length=32,
        description="The event types to receive (docs/webhooks.md lists them; another one is 422"
        " `WEBHOOK_EVENT_UNKNOWN`). `webhook.ping` is delivered whether listed or not.",
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    status: str = Field(description="`active`, or `disabled` (nothing more is delivered).")
    disabled_reason: str | None = Field(
        description="`deleted` (by its owner) or `gone` (the receiver answered 410 Gone)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_` + base64 of 32 bytes), shown this once: verify every"
        " delivery's `webhook-signature` with it."
    )


class WebhookSecretOut(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret, shown this once.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries are signed with the previous secret as well (two signatures);"
        " none when the previous secret stopped at once."
    )


class WebhookPingOut(BaseModel):
    message_id: str = Field(description="The `webhook-id` the delivery will carry.")
    event_type: str
    state: str = Field(description="`pending`: the delivery worker sends it shortly.")


class DeliveryAttemptOut(BaseModel):
    """One attempt to deliver one message (the delivery log)."""

    id: int
    message_id: str = Field(description="The `webhook-id`: the same on every attempt of one message.")
    event_type: str
    attempt: int = Field(description="1 for the first attempt of the message.")
    started_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status; none when it did not answer.")
    error: str | None = Field(description="Why there was no answer (timeout, connection, refused address).")
    outcome: str = Field(
        description="`delivered` (2xx), `retrying` (see `next_attempt_at`), `failed` (the last attempt),"
        " `disabled` (410 Gone: the webhook is disabled), `superseded` (the message was cancelled meanwhile)."
    )
    next_attempt_at: datetime | None
