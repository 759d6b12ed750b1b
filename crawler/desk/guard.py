"""Who may use the desk: the token on every request, the CSRF token on every POST, and,
on loopback without a token, only loopback host names.

The token (``--token`` or ``desk.token``) is what binding any other address than loopback
requires. A browser presents it once as ``?token=...``; the desk answers with a cookie
(HTTP-only, same-site strict) and sends it on to the same page without the token in its
address. Scripts may send ``Authorization: Bearer TOKEN`` instead.

The CSRF token is a random value of the running desk that every form carries: a page of
another site can post to the desk but cannot read a desk page to learn the value. A page
kept open across a restart of the desk posts the old value and is asked to reload.

On loopback with no token, a request naming another host (a DNS-rebinding page that made
its own name resolve to 127.0.0.1) is refused.
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_COOKIE = "aibrief_desk"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only listens to this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one."""
    return bool(given) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def host_name(header: str) -> str:
    """The host of a Host header, without its port ("[::1]:8000" gives "[::1]")."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


class TokenGuard(BaseHTTPMiddleware):
    """Refuses every request that does not carry the desk's token (when it has one), and
    requests naming a host other than loopback (when it has none)."""

    def __init__(self, app, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next) -> Response:
        if not self.token:
            host = host_name(request.headers.get("host", ""))
            if host.lower() not in LOOPBACK_NAMES:
                return PlainTextResponse(f"aibrief desk: the host {host!r} is not this machine's loopback name;"
                                         " open the desk as http://127.0.0.1:PORT/\n", status_code=421)
            return await call_next(request)
        offered = request.query_params.get("token")
        if offered is not None and same_secret(offered, self.token):
            rest = request.url.remove_query_params("token")
            response = RedirectResponse(rest.path + (f"?{rest.query}" if rest.query else ""), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            return response
        bearer = request.headers.get("authorization", "")
        presented = bearer[7:] if bearer.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE)
        if same_secret(presented, self.token):
            return await call_next(request)
        return PlainTextResponse("aibrief desk: this desk needs its token: open it once as /?token=TOKEN\n",
                                 status_code=401)
