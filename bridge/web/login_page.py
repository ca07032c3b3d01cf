"""The login page behind the bot's one-time link: QQ number and password, over a form POST.

The password goes from the browser to the bridge (over the deployer's HTTPS) and is hashed at
once (login.py); it never enters Matrix, the store or a log. The page has no script and loads
nothing from elsewhere; its headers forbid caching, framing and sending the link as a referrer.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from aiohttp import web

from ..login import HTTP_STATUS, log_in
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from ..core import Bridge

log = logging.getLogger("bridge.web")

LOGIN_PATH = "/qq-bridge/login"
MAX_FORM_BYTES = 4096
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
_UIN = re.compile(r"[1-9][0-9]{4,11}")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in to QQ</title>
<style>
body {{ font-family: sans-serif; max-width: 26em; margin: 3em auto; padding: 0 1em; }}
label {{ display: block; margin-top: 1em; }}
input {{ width: 100%; padding: .4em; box-sizing: border-box; }}
button {{ margin-top: 1.5em; padding: .5em 1.5em; }}
.error {{ color: #a00; }} .ok {{ color: #070; }}
</style></head>
<body><h1>Log in to QQ</h1>
{body}
</body></html>
"""
FORM = """<p>For the Matrix user <b>{mxid}</b>.</p>
{message}
<form method="post" autocomplete="off">
<label for="uin">QQ number</label>
<input id="uin" name="uin" inputmode="numeric" pattern="[0-9]*" required value="{uin}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Log in</button>
</form>
<p>Your password goes only to the bridge, which keeps just what QQ needs to log in.</p>
"""
GONE = (
    "<p class=error>This login link has expired or was already used. "
    "Send <code>login</code> to the bridge bot for a new one.</p>"
)


class LoginPage:
    """``GET`` and ``POST`` of ``/qq-bridge/login/{token}`` on the appservice listener."""

    def __init__(self, bridge: Bridge, limiter: RateLimiter) -> None:
        self.bridge = bridge
        self.limiter = limiter

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(LOGIN_PATH + "/{token}", self.show)
        app.router.add_post(LOGIN_PATH + "/{token}", self.submit)

    async def show(self, request: web.Request) -> web.Response:
        mxid = self.bridge.login_links.owner(request.match_info["token"])
        if mxid is None:
            return _page(GONE, status=404)
        return _page(FORM.format(mxid=html.escape(mxid), message="", uin=""))

    async def submit(self, request: web.Request) -> web.Response:
        if not self.limiter.allow(request.remote or "?"):
            return _page("<p class=error>Too many attempts: wait a minute.</p>", status=429)
        # Read no more than a form needs: the listener accepts large bodies for transactions.
        body = await request.content.read(MAX_FORM_BYTES + 1)
        if len(body) > MAX_FORM_BYTES:
            return _page("<p class=error>That form is too large.</p>", status=413)
        token = request.match_info["token"]
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        uin_text = (form.get("uin") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        owner = self.bridge.login_links.owner(token)
        if owner is None:
            return _page(GONE, status=404)
        if not _UIN.fullmatch(uin_text) or not password:
            message = "<p class=error>Type your QQ number (digits only) and your password.</p>"
            return _form(owner, message, uin_text, status=400)
        mxid = self.bridge.login_links.attempt(token)
        if mxid is None:
            return _page(GONE, status=404)
        user = await self.bridge.user(mxid)
        result = await log_in(self.bridge, user, int(uin_text), password)
        if not result.ok:
            message = f"<p class=error>{html.escape(result.message)}</p>"
            return _form(mxid, message, uin_text, HTTP_STATUS[result.code])
        self.bridge.login_links.used(token)
        try:
            await user.notify(f"{result.message} (through the login page)")
        except Exception:  # the login worked; the page says so even if Matrix is down
            log.warning("Could not tell %s of their login", mxid, exc_info=True)
        return _page(
            f"<p class=ok>{html.escape(result.message)}</p><p>You can close this page.</p>"
        )


def _form(mxid: str, message: str, uin: str, status: int) -> web.Response:
    body = FORM.format(mxid=html.escape(mxid), message=message, uin=html.escape(uin))
    return _page(body, status=status)


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=PAGE.format(body=body), status=status, content_type="text/html", headers=HEADERS
    )
