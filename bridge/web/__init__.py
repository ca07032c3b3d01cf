"""The bridge's own web pages on the appservice listener: the login page and provisioning.

``add_web(app, bridge)`` adds their routes to mautrix's aiohttp app before it starts.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

from aiohttp import web

from .links import LoginLinks
from .login_page import LOGIN_PATH, LoginPage
from .provisioning import Provisioning
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from ..core import Bridge

__all__ = ["LOGIN_PATH", "LoginLinks", "Provisioning", "WebRoutes", "add_web", "login_link"]

log = logging.getLogger("bridge.web")

# Per client address: a burst of 20 requests, then one every 2 seconds. Generous for a person
# or a front end; a guesser of the shared secret gets 1800 tries an hour.
BURST, PER_SECOND = 20.0, 0.5
_LINK_IN_LOG = re.compile(re.escape(LOGIN_PATH) + r"/[A-Za-z0-9_\-]+")


class WebRoutes:
    """What ``add_web`` set up: the login page and, if enabled, the provisioning API."""

    def __init__(self, login_page: LoginPage, provisioning: Provisioning | None) -> None:
        self.login_page = login_page
        self.provisioning = provisioning


def add_web(app: web.Application, bridge: Bridge) -> WebRoutes:
    """Add the login page and the provisioning API (unless disabled) to ``app``."""
    limiter = RateLimiter(BURST, PER_SECOND, time.monotonic)
    page = LoginPage(bridge, limiter)
    page.add_routes(app)
    provisioning = None
    secret = bridge.config.provisioning_secret
    if secret is None:
        log.info("The provisioning API is off (provisioning.shared_secret)")
    else:
        provisioning = Provisioning(bridge, secret, bridge.config.provisioning_prefix, limiter)
        provisioning.add_routes(app)
    _hide_links_in_access_log()
    return WebRoutes(page, provisioning)


def login_link(bridge: Bridge, mxid: str) -> str | None:
    """A new one-time login link for ``mxid``; None when no public address is configured."""
    base = bridge.config.public_address
    if base is None:
        return None
    return f"{base}{LOGIN_PATH}/{bridge.login_links.issue(mxid)}"


class _HideLoginLinks(logging.Filter):
    """aiohttp's access log writes each request line: cut the token out of login links."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and LOGIN_PATH in record.msg:
            record.msg = _LINK_IN_LOG.sub(LOGIN_PATH + "/…", record.msg)
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and LOGIN_PATH in value and name != "msg":
                setattr(record, name, _LINK_IN_LOG.sub(LOGIN_PATH + "/…", value))
        return True


def _hide_links_in_access_log() -> None:
    access = logging.getLogger("aiohttp.access")
    if not any(isinstance(f, _HideLoginLinks) for f in access.filters):
        access.addFilter(_HideLoginLinks())
