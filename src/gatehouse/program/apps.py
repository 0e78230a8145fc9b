"""The ASGI applications `gatehouse serve` puts on its ports, composed from the faces."""

from __future__ import annotations

from gatehouse.core import Gatehouse
from gatehouse.cpanel.app import CpanelApp
from gatehouse.program import load_faces
from gatehouse.web.app import WebApp
from gatehouse.web.cpanel import CpanelPages
from gatehouse.whm.app import WhmApp


def whm_ports(gatehouse: Gatehouse) -> WhmApp:
    """2086/2087: WHM API 1, and the pages for every other path."""
    load_faces()
    return WhmApp(gatehouse, WebApp(gatehouse))


def cpanel_ports(gatehouse: Gatehouse) -> CpanelApp:
    """2082/2083: UAPI and cPanel API 2, and the account holder's pages under /cpsessN/."""
    load_faces()
    return CpanelApp(gatehouse, CpanelPages(gatehouse))
