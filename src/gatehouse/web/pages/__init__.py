"""The WHM pages: log in, Manage API Tokens, Remote Access Key.

A thin face over the same core as `/json-api/`: every change (and every list) is the WHM API 1
function run as the session's user (`Site.call`), so validation, privileges, auditing and the
wording of errors are exactly the API's. The pages add only what a browser needs: sessions,
CSRF protection, forms, and the one-time display of a new token.

`web/app.py` answers the one-time `/login/` URLs itself and hands every other request here,
with the `/cpsessNNNNNNNNNN` prefix stripped (its digits in `scope["gatehouse.cpsess"]`).
Here: the application over every page a module of this package declares (`routes.route`),
and the security headers every page carries.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.core import Gatehouse
from gatehouse.web.pages.form import TOO_LARGE, TOO_LARGE_TITLE, FormTooLarge
from gatehouse.web.pages.routes import ROUTES
from gatehouse.web.pages.site import Site
from gatehouse.web.site_app import SiteApp


class Pages(SiteApp[Site]):
    def __init__(self, gatehouse: Gatehouse) -> None:
        site = Site(gatehouse)

        def too_large(request: Request) -> Response:
            return site.render.message(request, 413, TOO_LARGE_TITLE, TOO_LARGE)

        super().__init__(site, ROUTES, {FormTooLarge: too_large})
