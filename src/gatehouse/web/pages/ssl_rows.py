"""What the SSL/TLS pages (WHM's and the cPanel face's) show of a certificate: its names,
issuer, expiry and the days left, from the facts the API answers (`fetch_ssl_vhosts`' `crt`,
`SSL::installed_hosts`, `SSL::list_certs`: cPanel's keys, never key material); and which
field of the install form an API refusal is about."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gatehouse.web.pages import form

EXPIRING_DAYS = 30  # as AutoSSL's renewal window (GATEHOUSE_AUTOSSL_RENEW_DAYS' default)
DAY = 86400


def certificate(info: dict[str, Any], now: int) -> dict[str, Any]:
    """A certificate's facts for a table row: `state` is expired, expiring (within 30 days)
    or ok; `days_left` is negative once expired."""
    not_after = int(info["not_after"])
    days_left = (not_after - now) // DAY
    state = "expired" if not_after <= now else "expiring" if days_left < EXPIRING_DAYS else "ok"
    issuer = info.get("issuer.organizationName") or info.get("issuer.commonName") or ""
    return {
        "names": list(info.get("domains") or []),
        "issuer": issuer,
        "self_signed": bool(info.get("is_self_signed")),
        "expires": dt.datetime.fromtimestamp(not_after, dt.UTC).strftime("%Y-%m-%d"),
        "days_left": days_left,
        "state": state,
    }


def days_text(row: dict[str, Any]) -> str:
    days = int(row["days_left"])
    if row["state"] == "expired":
        return "expired"
    return "1 day left" if days == 1 else f"{days} days left"


# Said on the install form itself, next to what was entered, rather than on a page of its own.
TOO_LARGE = (
    f"{form.TOO_LARGE} A certificate, its key and a CA bundle are far smaller (installssl takes "
    "at most 64 KB each)."
)


def field_of(reason: str) -> str:
    """The install form's field an install refusal is about (`domain`, `crt`, `key`, `cab`),
    or `action` when it is about none of them."""
    missing = {"domain": "domain", "crt": "crt", "cert": "crt", "key": "key", "cab": "cab"}
    for name, field in missing.items():
        if reason in (f"Missing parameter: {name}", f"Provide the “{name}” argument."):
            return field
    if reason == "No 'cert' argument specified.":  # UAPI install_ssl's own words
        return "crt"
    if "match the key" in reason or reason.startswith(("The key", "No key", "Certificate and key")):
        return "key"
    if "CA bundle" in reason or "chain" in reason:
        return "cab"
    if "domain" in reason:
        return "domain"
    if "certificate" in reason:
        return "crt"
    return "action"
