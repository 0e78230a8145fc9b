"""Integration links: applications a billing system links into an account's cPanel interface
(WHMCS's "Application Links": Billing & Support, …), and the autologin behind them — the use
cases of WHM API 1 `create_integration_link`, `create_integration_group`,
`update_integration_link_token`, `remove_integration_link`, `remove_integration_group`,
`list_integration_links`, `list_integration_groups`, `get_integration_link_user_config` and
UAPI `Integration::fetch_url`.

cPanel's logic, followed step by step (Whostmgr/Integration.pm, Cpanel/Integration.pm,
Cpanel/API/Integration.pm, Cpanel/Admin/Modules/Cpanel/integration_call.pm):

* A link is an `app` of an account with settings (`autologin_token_url`, `url`, `label`,
  `implements`, `subscriber_unique_id`, `group_id`, `order`, `hide`, `base64_png_image`); other
  arguments are dropped; `url` or `autologin_token_url` is required; its `token` is kept
  apart (cPanel's root-only admin config; here encrypted with the key ring, never shown).
  Creating an app that exists replaces it; removing one that does not exist is no error.
* Following a link (`fetch_url`): with an `autologin_token_url`, the server POSTs the link's
  settings, its token and `attempt` (1–3) there as a form, and answers the JSON object it
  gets back (`redirect_url`, …) with the link's `url` beside it; an answer with `retry` (and
  no `redirect_url`) is asked again after that many seconds (60 at most, 3 attempts in all).
  When the call fails, the link's `url` is the answer; without one, the failure is.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.users import User
from gatehouse.errors import GatehouseError, InvalidParameter, NotFound
from gatehouse.store import rows
from gatehouse.store.schema import integration_groups, integration_links

log = logging.getLogger(__name__)

GROUP_PREFIX = "group_"
LINK_KEYS = (
    "autologin_token_url",
    "base64_png_image",
    "group_id",
    "hide",
    "implements",
    "label",
    "order",
    "subscriber_unique_id",
    "token",
    "url",
)
GROUP_KEYS = ("label", "order")
NAME_MAX = 255  # bytes, Linux's NAME_MAX: cPanel keeps each link in a file of that name
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ATTEMPTS = 3
MAX_RETRY_WAIT = 60
TIMEOUT = 30.0
AUDIT_LINK = "INTEGRATIONLINK"
AUDIT_GROUP = "INTEGRATIONGROUP"


@dataclass(frozen=True, slots=True)
class Link:
    app: str
    config: dict[str, str]
    has_token: bool


# -- validation ------------------------------------------------------------------------------


def check_name(name: str, argument: str) -> str:
    """Cpanel::Validate::FilesystemNodeName, and no `group_` prefix (that is a group's)."""
    if name == "":
        raise InvalidParameter(f"The “{argument}” argument cannot be empty.")
    if name in (".", ".."):
        raise InvalidParameter(f"“{name}” is a reserved name: it cannot be the “{argument}”.")
    if len(name.encode()) > NAME_MAX:
        raise InvalidParameter(f"The “{argument}” argument may be at most {NAME_MAX} bytes long.")
    if "/" in name or "\0" in name:
        raise InvalidParameter(f"The “{argument}” argument may not contain “/” or a NUL byte.")
    if name.startswith(GROUP_PREFIX):
        raise InvalidParameter(f"The “{argument}” argument cannot begin with “{GROUP_PREFIX}”.")
    return name


def _known(data: Mapping[str, str], keys: tuple[str, ...]) -> dict[str, str]:
    """_validate_data_and_remove_unknown_items: unknown keys dropped; no ' in the label."""
    kept = {k: v for k, v in data.items() if k in keys}
    if "'" in kept.get("label", ""):
        raise InvalidParameter("The parameter “label” may not contain single-quote characters (').")
    return kept


def _check_image(encoded: str) -> None:
    try:
        binary = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter("“base64_png_image” is not valid Base64.") from None
    if not binary.startswith(PNG_SIGNATURE):
        raise InvalidParameter("“base64_png_image” is not a valid PNG image.")


def _check_link(config: dict[str, str]) -> None:
    if not config.get("autologin_token_url") and not config.get("url"):
        raise InvalidParameter(
            "You must supply one of the following parameters: autologin_token_url url"
        )
    if "hide" in config and config["hide"] not in ("0", "1", ""):
        raise InvalidParameter(f"“{config['hide']}” is not a valid boolean value (0 or 1).")
    for url_key in ("url", "autologin_token_url"):
        url = config.get(url_key, "")
        if url and not url.lower().startswith(("http://", "https://")):
            # Choice: cPanel stores any text; a link the browser or the server cannot follow
            # is refused here (the autologin URL is fetched by the server).
            raise InvalidParameter(f"The “{url_key}” must be an http:// or https:// URL.")
    if config.get("base64_png_image"):
        _check_image(config["base64_png_image"])


# -- the store -------------------------------------------------------------------------------


def _context(user_id: int, app: str) -> str:
    # Binds a token's ciphertext to its account and app: copied to another row, it will not
    # decrypt.
    return f"integration:{user_id}:{app}"


def add_link(
    conn: sa.Connection, keyring: KeyRing, account: User, app: str, data: Mapping[str, str],
    now: int,
) -> None:  # fmt: skip
    check_name(app, "app")
    config = _known(data, LINK_KEYS)
    _check_link(config)
    token = config.pop("token", None)
    values = {
        "config": json.dumps(config, sort_keys=True),
        "token_ciphertext": keyring.encrypt(token, _context(account.id, app)) if token else None,
        "created_time": now,
    }
    rows.put(conn, integration_links, {"user_id": account.id, "app": app}, values)


def add_group(
    conn: sa.Connection, account: User, group_id: str, data: Mapping[str, str], now: int
) -> None:
    check_name(group_id, "group_id")
    config = json.dumps(_known(data, GROUP_KEYS), sort_keys=True)
    values = {"config": config, "created_time": now}
    rows.put(conn, integration_groups, {"user_id": account.id, "group_id": group_id}, values)


def _row(conn: sa.Connection, account: User, app: str) -> Any:
    return conn.execute(
        sa.select(integration_links).where(
            integration_links.c.user_id == account.id, integration_links.c.app == app
        )
    ).first()


def _missing(account: User, app: str) -> NotFound:
    return NotFound(f"The user “{account.username}” has no integration link “{app}”.")


def update_token(
    conn: sa.Connection, keyring: KeyRing, account: User, app: str, token: str
) -> None:
    """Choice: cPanel writes the token even for an app that does not exist (a stray admin
    file); gatehouse refuses: there is no link to give it to."""
    check_name(app, "app")
    if _row(conn, account, app) is None:
        raise _missing(account, app)
    conn.execute(
        sa.update(integration_links)
        .where(integration_links.c.user_id == account.id, integration_links.c.app == app)
        .values(token_ciphertext=keyring.encrypt(token, _context(account.id, app)))
    )


def remove_link(conn: sa.Connection, account: User, app: str) -> bool:
    check_name(app, "app")
    deleted = conn.execute(
        sa.delete(integration_links).where(
            integration_links.c.user_id == account.id, integration_links.c.app == app
        )
    )
    return bool(deleted.rowcount)


def remove_group(conn: sa.Connection, account: User, group_id: str) -> bool:
    check_name(group_id, "group_id")
    deleted = conn.execute(
        sa.delete(integration_groups).where(
            integration_groups.c.user_id == account.id,
            integration_groups.c.group_id == group_id,
        )
    )
    return bool(deleted.rowcount)


def links(conn: sa.Connection, account: User) -> list[Link]:
    rows = conn.execute(
        sa.select(integration_links)
        .where(integration_links.c.user_id == account.id)
        .order_by(integration_links.c.app)
    )
    return [Link(r.app, json.loads(r.config), r.token_ciphertext is not None) for r in rows]


def groups(conn: sa.Connection, account: User) -> list[tuple[str, dict[str, str]]]:
    rows = conn.execute(
        sa.select(integration_groups)
        .where(integration_groups.c.user_id == account.id)
        .order_by(integration_groups.c.group_id)
    )
    return [(r.group_id, json.loads(r.config)) for r in rows]


def user_config(conn: sa.Connection, account: User, app: str) -> dict[str, str]:
    check_name(app, "app")
    row = _row(conn, account, app)
    if row is None:
        raise _missing(account, app)
    return dict(json.loads(row.config))


# -- following a link ------------------------------------------------------------------------

Sleep = Callable[[float], None]


class AutologinFailed(GatehouseError):
    """The autologin URL could not be asked, or its answer read."""


def _ask(client: httpx.Client, url: str, form: dict[str, str]) -> dict[str, Any]:
    try:
        response = client.post(url, data=form)
    except httpx.HTTPError as exc:
        raise AutologinFailed(
            f"The system was unable to fetch a response from “{url}” because of an error: "
            f"{type(exc).__name__}"
        ) from None
    if not response.is_success:
        raise AutologinFailed(
            f"The system was unable to fetch a response from “{url}” because of an error: "
            f"{response.status_code} {response.reason_phrase}"
        )
    try:
        answer = json.loads(response.text)
    except json.JSONDecodeError as exc:
        raise AutologinFailed(
            f"The system was unable to parse the response from “{url}” because of an error: "
            f"{exc.msg}"
        ) from None
    if not isinstance(answer, dict):
        raise AutologinFailed(
            f"The system was unable to parse the response from “{url}” because of an error: "
            "the answer is not a JSON object"
        )
    return answer


def fetch_url(
    conn: sa.Connection, keyring: KeyRing, account: User, app: str, *,
    client: httpx.Client | None = None, sleep: Sleep = time.sleep,
) -> dict[str, Any]:  # fmt: skip
    """Integration::fetch_url: where the link sends the account (see the module's docstring)."""
    check_name(app, "app")
    row = _row(conn, account, app)
    if row is None:
        raise NotFound(
            f"The system did not find a valid integration configuration for the application "
            f"“{app}” for the user “{account.username}”."
        )
    config: dict[str, str] = json.loads(row.config)
    autologin = config.get("autologin_token_url")
    if autologin:
        try:
            return _autologin(keyring, account, app, row, config, client, sleep)
        except AutologinFailed as exc:
            log.warning("integration link %s of %s: %s", app, account.username, exc.reason)
            if not config.get("url"):
                raise AutologinFailed(
                    f"The system failed to call “FETCH_AUTO_LOGIN_URL” because of an error: "
                    f"{exc.reason}"
                ) from None
    return {"redirect_url": config["url"]}


def _autologin(
    keyring: KeyRing, account: User, app: str, row: Any, config: dict[str, str],
    client: httpx.Client | None, sleep: Sleep,
) -> dict[str, Any]:  # fmt: skip
    url = config["autologin_token_url"]
    form = {k: v for k, v in config.items() if k != "autologin_token_url"}
    if row.token_ciphertext is not None:
        try:
            form["token"] = keyring.decrypt(bytes(row.token_ciphertext), _context(account.id, app))
        except (InvalidTag, ValueError):
            raise AutologinFailed(
                "The link's token does not decrypt with this server's key ring "
                "(GATEHOUSE_SECRET_KEY must be the same on every node)."
            ) from None
    answer: dict[str, Any] = {"url": config["url"]} if config.get("url") else {}
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        for attempt in range(1, ATTEMPTS + 1):
            answer.update(_ask(http, url, {**form, "attempt": str(attempt)}))
            if answer.get("redirect_url") or not answer.get("retry"):
                break
            try:
                wait = abs(int(float(answer["retry"])))
            except (TypeError, ValueError):
                wait = 0
            if wait and attempt < ATTEMPTS:
                sleep(min(wait, MAX_RETRY_WAIT))
    finally:
        if own:
            http.close()
    return answer
