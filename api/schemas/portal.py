"""The web portal's sign-in (``POST /app/session``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import PlainText


class SignIn(BaseModel):
    """An API key, exchanged for a session cookie: the key itself is not kept by the browser."""

    api_key: PlainText = Field(min_length=1, max_length=200)


class SignedIn(BaseModel):
    role: str
    participant_id: str | None = Field(description="None for the platform operator.")
    name: str
    home: str = Field(description="The page to open after the sign-in.")
