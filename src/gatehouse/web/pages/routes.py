"""Where the WHM pages declare their URLs: `@route("/path", "GET", "POST")` above a page
function in any module of this package (`gatehouse.web.site_app.Routes`): a new page is one
new module (plus its template), no list elsewhere to keep in step."""

from __future__ import annotations

from gatehouse.web.pages.site import Site
from gatehouse.web.site_app import Routes

ROUTES: Routes[Site] = Routes("gatehouse.web.pages")
route = ROUTES.route
