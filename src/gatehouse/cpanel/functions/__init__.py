"""UAPI and cPanel API 2 functions, one module per cPanel module (tokens.py, domaininfo.py,
dns.py, zoneedit.py, ...). Importing a module registers its functions with the decorators of
`gatehouse.cpanel.registry`; every module in this package is loaded, so a new one needs no
list to be kept in step."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{module}")
