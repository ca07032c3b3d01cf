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

__all__ = [
    "LOGIN_PATH",
    "LoginLinks",
    "Provisioning",
    "WebRoutes",
    "add_web",
    "hide_login_links",
    "login_link",
]

log = logging.getLogger("bridge.web")

# Per client address: a burst of 30 requests, then one a second. Generous for a person or a
# front end; against a 256-bit shared secret, 3600 guesses an hour are nothing.
BURST, PER_SECOND = 30.0, 1.0
# Loggers that write login links: aiohttp's access log (the request line) and mautrix's log of
# the bot's requests at DEBUG (the notice with the link).
LINK_LOGGERS = ("aiohttp.access", "mau.appservice.api.bot")
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
    _hide_links_in_logs()
    return WebRoutes(page, provisioning)


def login_link(bridge: Bridge, mxid: str) -> str | None:
    """A new one-time login link for ``mxid``; None when no public address is configured."""
    base = bridge.config.public_address
    if base is None:
        return None
    return f"{base}{LOGIN_PATH}/{bridge.login_links.issue(mxid)}"


class _HideLoginLinks(logging.Filter):
    """Cut the token out of login links in a record: its message, arguments and extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(LOGIN_PATH in str(a) for a in record.args):
            record.msg, record.args = record.getMessage(), ()  # formatted once, then cut below
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and LOGIN_PATH in value:
                setattr(record, name, _LINK_IN_LOG.sub(LOGIN_PATH + "/…", value))
        return True


def _hide_links_in_logs() -> None:
    for name in LINK_LOGGERS:
        hide_login_links(logging.getLogger(name))


def hide_login_links(logger: logging.Logger) -> None:
    """Cut login links out of what ``logger`` itself logs (a filter: records of its children
    are not filtered). For the request log of a puppet that answers a command in a portal."""
    if not any(isinstance(f, _HideLoginLinks) for f in logger.filters):
        logger.addFilter(_HideLoginLinks())
