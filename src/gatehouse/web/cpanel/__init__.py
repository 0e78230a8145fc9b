"""The cPanel pages: an account holder's home page, Manage API Tokens and the Zone Editor,
on the cPanel ports (2082/2083) under `/cpsessNNNNNNNNNN/`.

A thin face over the same core as `/execute/`: every list and change is the UAPI function run
as the session's account (`Site.uapi`), so validation, auditing and the wording of errors are
exactly the API's. The pages add what a browser needs: the session (entered only through a
`create_user_session` URL of service `cpaneld`), CSRF protection, forms, and the one-time
display of a new token. The cPanel face (`cpanel/app.py`) hands this application every
non-API path under a /cpsess prefix (and `/static/`), the prefix taken off
(`scope["gatehouse.cpsess"]`); the program composes the two (`program/apps.py`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.core import Gatehouse
from gatehouse.web.cpanel.routes import ROUTES
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages.form import TOO_LARGE, TOO_LARGE_TITLE, FormTooLarge
from gatehouse.web.site_app import SiteApp


class CpanelPages(SiteApp[Site]):
    def __init__(self, gatehouse: Gatehouse) -> None:
        site = Site(gatehouse)

        def too_large(request: Request) -> Response:
            return site.message(request, 413, TOO_LARGE_TITLE, TOO_LARGE, None)

        super().__init__(site, ROUTES, {FormTooLarge: too_large})
