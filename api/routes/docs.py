"""``/docs`` (Swagger UI) and ``/redoc`` served with no request leaving the gateway.

FastAPI's defaults load both from a CDN: on a bank's network without internet they were blank pages.
Their scripts and styles come from pinned npm packages (``package.json``: swagger-ui-dist, redoc),
served under ``/vendor`` from an allowlist of files, never a whole folder.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import StateDep
from api.errors import ApiError

router = APIRouter(include_in_schema=False)

#: every file served under /vendor: its public name and where the pinned npm package has it
VENDOR_FILES = {
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
    "axe.min.js": "axe-core/axe.min.js",
    # secp256k1 and EIP-712 for a core enterprise that endorses with its own chain key (the portal)
    "ethers.umd.min.js": "ethers/dist/ethers.umd.min.js",
}
FAVICON = "/app/static/favicon.svg"
#: ReDoc's bundle always shows a "powered by" logo from its CDN: the page's policy keeps the browser from
#: asking for it (ReDoc then leaves the logo out). Its styles are injected at run time, its search runs
#: in a worker made from a blob.
REDOC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """The interactive API reference (Swagger UI), from the gateway's own files."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="SCF gateway - API reference",
        swagger_js_url="/vendor/swagger-ui-bundle.js",
        swagger_css_url="/vendor/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (as FastAPI serves it by default)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    """The API reference as one page (ReDoc), without web fonts from elsewhere."""
    page = get_redoc_html(
        openapi_url="/openapi.json",
        title="SCF gateway - API reference",
        redoc_js_url="/vendor/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = REDOC_CSP
    return page


@router.get("/vendor/{name}")
def vendor_file(name: str, state: StateDep) -> FileResponse:
    """One file of a pinned npm package (``VENDOR_FILES``); 404 for anything else."""
    relative = VENDOR_FILES.get(name)
    path = state.settings.effective_web_assets_dir / relative if relative else None
    if path is None or not path.is_file():
        raise ApiError(404, "NOT_FOUND", f"No file {name} is served here.")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
