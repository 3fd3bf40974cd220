"""The finance team's web page (``GET /``) and, in AWS, its sign-in page (``GET /signin``).

Sources live in ``functions/api/web/``: ``index.html`` + ``app.js`` + ``app.css``, ``signin.html`` +
``signin.js``, and the pinned charting library (uPlot) that ``scripts/setup_web.sh`` copies from
``node_modules`` into ``web/vendor/`` (git-ignored; ``sam build`` ships the folder with the function).
Each page is assembled once per container into one self-contained document: every local
``<script src>`` and stylesheet ``<link>`` is inlined. A signed-in browser then loads the whole page
with one request carrying its token (API Gateway's JWT authorizer reads a header; a ``<script src>``
could not send one), and nothing is fetched from anywhere else at run time. The document is sent
gzip-compressed when the browser accepts it, with a Content-Security-Policy that allows exactly the
inlined scripts (by sha256) and requests to this API (plus the sign-in domain on the sign-in page).
"""

import base64
import gzip
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from fastapi import APIRouter, HTTPException, Request, Response

from rossmann_core.errors import RossmannError, SettingsError
from rossmann_core.serving.settings import SigninSettings, signin_settings

router = APIRouter()
T = TypeVar("T")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
APP_PAGE = "index.html"
SIGNIN_PAGE = "signin.html"
SIGNIN_CONFIG = "__SIGNIN_CONFIG__"
LOCAL_ASSET = re.compile(r'<script src="([\w./-]+)"></script>|<link rel="stylesheet" href="([\w./-]+)">')


class PageAssetError(RossmannError):
    """A source file of the page is missing (the set-up has not copied the charting library)."""


@dataclass(frozen=True)
class Page:
    """One assembled document: ``html`` (UTF-8), its gzip form, and the sha256 (base64) of each inline script."""

    html: bytes
    gzipped: bytes
    script_hashes: tuple[str, ...]


def read_asset(name: str) -> str:
    """Text of ``web/<name>``; raises PageAssetError naming the file and the set-up step if it is missing."""
    path = (WEB_DIR / name).resolve()
    if WEB_DIR not in path.parents:
        raise PageAssetError(f"{name} is outside {WEB_DIR}")
    if not path.is_file():
        raise PageAssetError(f"{path} is missing: run scripts/setup.sh (npm ci, then copies uPlot into web/vendor/)")
    return path.read_text(encoding="utf-8")


def assemble(name: str, replacements: dict[str, str] | None = None) -> Page:
    """The page ``web/<name>`` with its local scripts and stylesheets inlined and ``replacements`` applied."""
    hashes: list[str] = []

    def inline(match: re.Match[str]) -> str:
        script, stylesheet = match.groups()
        if stylesheet:
            return f"<style>{read_asset(stylesheet)}</style>"
        code = read_asset(script).replace("</script", "<\\/script")
        hashes.append(base64.b64encode(hashlib.sha256(code.encode()).digest()).decode())
        return f"<script>{code}</script>"

    text = LOCAL_ASSET.sub(inline, read_asset(name))
    for placeholder, value in (replacements or {}).items():
        text = text.replace(placeholder, value)
    html = text.encode()
    return Page(html=html, gzipped=gzip.compress(html, compresslevel=9, mtime=0), script_hashes=tuple(hashes))


@lru_cache(maxsize=1)
def app_page() -> Page:
    return assemble(APP_PAGE)


@lru_cache(maxsize=4)
def signin_page(settings: SigninSettings | None) -> Page:
    """The sign-in page with its settings as JSON (``{}`` when sign-in is not configured)."""
    config = {} if settings is None else {"domain": settings.domain, "client_id": settings.client_id}
    return assemble(SIGNIN_PAGE, {SIGNIN_CONFIG: json.dumps(config).replace("<", "\\u003c")})


def content_security_policy(hashes: tuple[str, ...], connect: str = "") -> str:
    scripts = " ".join(f"'sha256-{h}'" for h in hashes)
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data: blob:; "
        f"connect-src 'self'{connect}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def send(page: Page, request: Request, policy: str) -> Response:
    """The page, gzip-compressed if the browser accepts it; never cached (it is behind sign-in in AWS)."""
    headers = {
        "Cache-Control": "no-store", "Content-Security-Policy": policy, "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(page.gzipped, media_type="text/html; charset=utf-8",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(page.html, media_type="text/html; charset=utf-8", headers=headers)


def load(build: Callable[[], T]) -> T:
    """``build()``; a missing source file or a malformed sign-in setting answers 503 with the reason."""
    try:
        return build()
    except (PageAssetError, SettingsError) as error:
        raise HTTPException(503, detail=f"page unavailable: {error}") from None


@router.get("/", include_in_schema=False)
def index(request: Request) -> Response:
    """The page: one store's (or a set's total) last 12 weeks and 42-day forecast, what-if, CSV."""
    page = load(app_page)
    return send(page, request, content_security_policy(page.script_hashes))


@router.get("/signin", include_in_schema=False)
def signin(request: Request) -> Response:
    """Signs in at Cognito (code flow with PKCE), then loads the page with the token (see web/signin.js)."""
    settings = load(signin_settings)
    page = load(lambda: signin_page(settings))
    app = load(app_page)
    connect = "" if settings is None else f" {settings.domain}"
    return send(page, request, content_security_policy(page.script_hashes + app.script_hashes, connect))
