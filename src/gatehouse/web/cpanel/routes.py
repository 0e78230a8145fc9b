"""Where the cPanel pages declare their URLs: `@route("/path", "GET", "POST")` above a page
function in any module of this package (under the session's /cpsessN/ prefix), as the WHM
pages do (`gatehouse.web.site_app.Routes`)."""

from __future__ import annotations

from gatehouse.web.cpanel.site import Site
from gatehouse.web.site_app import Routes

ROUTES: Routes[Site] = Routes("gatehouse.web.cpanel")
route = ROUTES.route
