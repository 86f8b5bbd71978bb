"""The web portal under ``/app``: sign-in and sign-out, and one page per task of each role.

Pages are HTML shells rendered here (layout, navigation, the session's CSRF token); their scripts
(``api/portal/static``) read and act through the HTTP API itself with the session cookie, so every
rule, authorization and error code is the API's (docs/portal.md). Not part of the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.auth import SESSION_COOKIE, Viewer, ViewerDep
from api.deps import SessionDep, StateDep, get_state
from api.schemas.portal import SignedIn, SignIn
from api.services import portal, portal_sessions

PORTAL_DIR = Path(__file__).resolve().parents[1] / "portal"
templates = Jinja2Templates(directory=PORTAL_DIR / "templates")
router = APIRouter(prefix="/app", include_in_schema=False)

#: what every portal page may load: its own origin only (no CDN, no inline script)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    viewer: Viewer | None = context.get("viewer")
    nav = portal.navigation(viewer.principal.role) if viewer else []
    return templates.TemplateResponse(
        request,
        name,
        {"nav": nav, "currency": get_state(request).settings.market.currency, **context},
        status_code=status,
        headers=HEADERS,
    )


@router.get("", response_class=HTMLResponse)
def portal_root(viewer: ViewerDep) -> Response:
    """The portal's entrance: the overview when signed in, else the sign-in page."""
    return RedirectResponse("/app/home" if viewer else "/app/sign-in", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, viewer: ViewerDep) -> Response:
    """The sign-in form (an API key, exchanged for a session cookie)."""
    return _render(request, "sign_in.html", viewer=viewer, title="Sign in")


@router.post("/session", response_model=SignedIn)
def sign_in(
    request: Request, response: Response, body: SignIn, state: StateDep, session: SessionDep
) -> SignedIn:
    """Open a session: the cookie is HttpOnly, SameSite=Strict, and Secure when served over TLS."""
    opened = portal_sessions.open_session(state.settings, session, body.api_key)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=state.settings.portal_max_hours * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    who = opened.participant
    role = who.role if who else "operator"
    return SignedIn(
        role=role,
        participant_id=who.id if who else None,
        name=who.legal_name if who else "Platform operator",
        home="/app/home",
    )


@router.post("/session/end", status_code=204)
def sign_out(
    request: Request, state: StateDep, session: SessionDep, x_csrf_token: str | None = Header(default=None)
) -> Response:
    """End the session (its CSRF token required) and clear the cookie."""
    portal_sessions.sign_out(state.settings, session, request.cookies.get(SESSION_COOKIE) or "", x_csrf_token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/{slug}", response_class=HTMLResponse)
def portal_page(request: Request, slug: str, viewer: ViewerDep) -> Response:
    """A page of the signed-in role; another role's page is refused, an unknown one is not found."""
    found = portal.page(slug)
    if viewer is None:
        return RedirectResponse("/app/sign-in", status_code=303)
    if found is None:
        return _render(request, "refused.html", 404, viewer=viewer, title="Not found", reason="not_found")
    if viewer.principal.role not in found.roles:
        return _render(request, "refused.html", 403, viewer=viewer, title=found.title, reason="role")
    return _render(request, "page.html", viewer=viewer, title=found.title, page=found)
