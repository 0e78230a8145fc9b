"""The Generate Token / Edit form: what the form shows, the API call it stands for, and the
API's refusal put next to the field it is about.

The page maps the form to `api_token_create` / `api_token_update` parameters and nothing
more: the Everything box sends `acl=all` for root and no `acl` (all of the owner's
privileges) for a reseller; an expiry date means "through the end of that day, UTC"; an empty
allow-list on edit sends `whitelist_ip=any`. Two checks are the page's own: a date that is not
a date, and no privilege chosen at all (the API would read a missing `acl` as "everything").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from gatehouse import acls, ipnets
from gatehouse.auth.authenticator import Principal
from gatehouse.domain import tokens
from gatehouse.web.pages.form import Form, Pairs
from gatehouse.web.pages.token_list import row

CATEGORY_TITLES = {
    "rootaccess": ("Everything", "Full access: every privilege, now and later."),
    "basicprivileges": (
        "Basic Privileges",
        "Day-to-day functions; cPanel grants these to new resellers by default.",
    ),
    "standardprivileges": ("Standard Privileges", "Create, change and remove accounts and DNS."),
    "packageprivileges": ("Packages", "What packages this token may create."),
    "globalprivileges": ("Global Privileges", "Server-wide information and services."),
    "superprivileges": ("Super Privileges", "Powerful functions; grant with care."),
}


def acl_groups(principal: Principal) -> list[dict[str, Any]]:
    """The privileges `principal` may grant, grouped by category as WHM groups them."""
    held = principal.privileges
    groups: list[dict[str, Any]] = []
    for acl in acls.CATALOGUE:
        if acl.name == acls.ALL or not acls.holds(held, acl.name):
            continue
        if not groups or groups[-1]["name"] != acl.category:
            title, description = CATEGORY_TITLES.get(acl.category, (acl.category, ""))
            groups.append(
                {"name": acl.category, "title": title, "description": description, "acls": []}
            )
        groups[-1]["acls"].append(acl)
    return groups


def posted_form(pairs: Pairs) -> Form:
    values = dict(pairs)
    return Form(
        {
            "name": values.get("name", "").strip(),
            "original_name": values.get("original_name", ""),
            "original_expires": values.get("original_expires", ""),
            "ips": values.get("ips", ""),
            "acl": [v for k, v in pairs if k == "acl"],
            "everything": values.get("everything") == "1",
            "expires": values.get("expires", "").strip(),
            "description": values.get("description", ""),
            "original_description": values.get("original_description", ""),
        }
    )


def edit_form(token: dict[str, Any]) -> Form:
    """The form for editing `token` (as `api_token_list` lists it)."""
    # An older row may expire after 9999, which no date shows: the form shows 9999-12-31,
    # and, as an unchanged date is not sent, saving the form keeps the stored expiry.
    expires = (
        dt.datetime.fromtimestamp(min(token["expires_at"], tokens.MAX_EXPIRY), dt.UTC)
        .date()
        .isoformat()
        if token["expires_at"]
        else ""
    )
    return Form(
        {
            "name": token["name"],
            "original_name": token["name"],
            "original_expires": expires,
            "ips": "\n".join(token["whitelist_ips"] or []),
            "acl": [k for k, v in token["acls"].items() if v and k != acls.ALL],
            "everything": row(token, 0)["privileges"] == "Everything",
            "expires": expires,
            "description": token.get("description") or "",
            "original_description": token.get("description") or "",
        }
    )


def call_params(principal: Principal, form: Form, *, editing: bool) -> Pairs:
    """The API call a form stands for; page-only checks (an empty ACL, a malformed date)
    fill `form.errors` instead."""
    values = form.values
    name = values["name"]
    pairs: Pairs = []
    if editing:
        pairs.append(("token_name", values["original_name"]))
        if name != values["original_name"]:
            pairs.append(("new_name", name))
    else:
        pairs.append(("token_name", name))
    if values["everything"]:
        if acls.ALL in principal.privileges:
            pairs.append(("acl", acls.ALL))
        # Otherwise no `acl`: a full-access token, which holds all of its owner's set.
    elif values["acl"]:
        pairs.extend((f"acl-{i}", acl) for i, acl in enumerate(values["acl"]))
    else:
        form.errors["acl"] = "Choose at least one privilege, or Everything."
    lines = _ip_lines(values["ips"])
    if lines:
        pairs.extend((f"whitelist_ip-{i}", line) for i, line in enumerate(lines))
    elif editing:
        pairs.append(("whitelist_ip", "any"))
    expires = values["expires"]
    if expires:
        try:
            day = dt.date.fromisoformat(expires)
        except ValueError:
            form.errors["expires"] = f"“{expires}” is not a date: use the form YYYY-MM-DD."
        else:
            if not (editing and expires == values.get("original_expires")):
                pairs.append(("expires_at", str(_end_of_day(day))))
    elif editing and values.get("original_expires"):
        pairs.append(("expires_at", "0"))
    description = values.get("description", "").replace("\r\n", "\n").strip()
    if (description and not editing) or (
        editing and description != values.get("original_description", "").strip()
    ):
        pairs.append(("description", description))
    return pairs


_WRITER_PREFIX = re.compile(r"\AThe system failed to \w+ the API token: ")


def attach_error(form: Form, reason: str) -> None:
    """Put the core's message next to the field it is about (without the API's
    "The system failed to … the API token: " prefix, which says nothing next to a field)."""
    reason = _WRITER_PREFIX.sub("", reason, count=1)
    lowered = reason.lower()
    if "is not a valid api token name." in lowered:
        # First: the message quotes the name, which may itself hold "acl" or "ip address".
        form.errors["name"] = reason
        return
    if "description" in lowered:
        form.errors["description"] = reason
        return
    if "ip address" in lowered or "cidr" in lowered:
        form.errors["ips"] = reason
        bad = []
        for line in _ip_lines(form.values["ips"]):
            try:
                ipnets.normalise([line])
            except ipnets.InvalidIpEntry:
                bad.append(line)
        if len(bad) > 1:
            form.errors["ips"] = "Invalid IP addresses or CIDR ranges: " + ", ".join(bad)
    elif "acl" in lowered:
        form.errors["acl"] = reason
    elif "expires_at" in lowered or "future date" in lowered or "epoch timestamp" in lowered:
        expires = form.values["expires"]
        if expires:
            try:
                stamp = str(_end_of_day(dt.date.fromisoformat(expires)))
                reason = reason.replace(f"“{stamp}”", f"“{expires}”")
            except ValueError:
                pass
        form.errors["expires"] = reason
    else:
        form.errors["name"] = reason


def _end_of_day(day: dt.date) -> int:
    """A date in the form means "usable through that day" (UTC)."""
    return int(dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC).timestamp())


def _ip_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
