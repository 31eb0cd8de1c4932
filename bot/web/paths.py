"""Where the web console lives, for the app and for whoever hands out its sign-in links."""

from __future__ import annotations

ADMIN_PREFIX = "/admin"
LOGIN_PATH = f"{ADMIN_PREFIX}/dangnhap"


def login_url(base: str, token: str) -> str:
    """The sign-in link. The token rides in the fragment, which browsers never send to a
    server: it stays out of access logs and proxies, and a messenger's link preview cannot
    use it up. The sign-in page posts it."""
    return f"{base.rstrip('/')}{LOGIN_PATH}#{token}"
