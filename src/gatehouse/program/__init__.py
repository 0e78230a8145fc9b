"""The program: the one layer that knows every face. It loads the API faces (so each may run
the others' functions through `gatehouse.api.bridge`), composes the HTTP applications and
starts the listeners (`server`), and is the `gatehouse` command (`main`)."""

from __future__ import annotations


def load_faces() -> None:
    """Load the WHM and cPanel functions and install both faces in the bridge (idempotent)."""
    from gatehouse import cpanel, whm

    whm.install()
    cpanel.install()
