"""api_token_create, api_token_list, api_token_update, api_token_revoke, api_token_get_details
(whm-reference §1.2–1.6)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from typing import Any

from gatehouse import acls, ipnets
from gatehouse.api.call import Call
from gatehouse.api.locale_format import list_and
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import (
    access,
    audit,
    privileges,
    token_policy,
    token_rate,
    token_rotation,
    token_scope,
)
from gatehouse.domain import tokens as store
from gatehouse.domain import tokens as tokens_domain
from gatehouse.domain import users as users_domain
from gatehouse.domain.tokens import Token
from gatehouse.errors import GatehouseError, InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.whm.functions.meta import privilege_map
from gatehouse.whm.registry import REGISTRY

MANAGE = ("manage-api-tokens",)

_NAME = Param(
    "token_name", "The token's name: 1–50 of A-Z a-z 0-9 _ -, unique per user.", required=True
)
# api_token_create and api_token_update refuse a missing name themselves, in cPanel's words.
_NAME_IN_WRITER = replace(_NAME, handler_refuses=True)
_ACL = Param(
    "acl",
    "Privileges for the token (`acl-0`, `acl-1`, …). Omitted: all of yours; `all`: full access.",
    multi=True,
)
_EXPIRES = Param("expires_at", "Unix time when the token stops working; 0 = never.", type="integer")
DESCRIPTION = Param(
    "description",
    "**gatehouse extension**: where the token is used, in your words (at most 1024 "
    "characters; empty clears it). Shown in listings only when set.",
)
RATE_LIMIT = Param(
    "rate_limit",
    "**gatehouse extension**: requests per minute the token may make, counted across every "
    "process and node; beyond it the answer is HTTP 429 with Retry-After. 0 or empty: no "
    "limit (the default). Shown in answers only when set.",
    type="integer",
)
SCOPE = (
    Param(
        "scope_account",
        "**gatehouse extension**: limit the token to these accounts (and their zones); "
        "`scope_account-0`, …",
        multi=True,
    ),
    Param(
        "scope_zone",
        "**gatehouse extension**: limit the token to these DNS zones; `scope_zone-0`, …",
        multi=True,
    ),
    Param(
        "scope_record",
        "**gatehouse extension**: within its zones, let the token change only records of "
        "these names (e.g. `_acme-challenge.example.com`); `scope_record-0`, …",
        multi=True,
    ),
    Param(
        "scope_record_type",
        "**gatehouse extension**: and only records of these types (e.g. `TXT`).",
        multi=True,
    ),
)
_IPS = Param(
    "whitelist_ip",
    "Addresses or CIDR ranges allowed to use the token "
    "(`whitelist_ip-0`, …; at most 100). Omitted: any address.",
    multi=True,
)


@contextmanager
def refused_as(verb: str) -> Iterator[None]:
    """cPanel's Whostmgr/API/1/Tokens.pm words every refusal from the token writer as
    `The system failed to <verb> the API token: <why>` (whm-reference §1.2): its try block
    holds every check, a missing `token_name` included. The error keeps its kind (and so its
    status and audit code)."""
    try:
        yield
    except GatehouseError as exc:
        exc.reason = f"The system failed to {verb} the API token: {exc.reason}"
        exc.args = (exc.reason,)
        raise


def parse_acls(call: Call, values: Sequence[str]) -> list[str]:
    """Known privileges that the caller itself holds, without repeats and sorted as cPanel
    stores them; anything else names the culprits."""
    held = call.principal.privileges
    bad = [v for v in values if (c := acls.canonical(v)) is None or not acls.holds(held, c)]
    if bad:
        # Whostmgr/API/1/Tokens.pm `_parse_and_validate_acls`: `[numerate,_1,ACL,ACLs]` and
        # `[list_and,_2]`, each culprit as given. cPanel lists them in Perl's hash order (no
        # order at all); gatehouse in the request's.
        noun = "ACL" if len(bad) == 1 else "ACLs"
        raise InvalidParameter(f"Invalid or unauthorized {noun} specified: {list_and(bad)}")
    return store.stored_acls([c for v in values if (c := acls.canonical(v)) is not None])


SCOPE_NAMES = ("scope_account", "scope_zone", "scope_record", "scope_record_type")


def caller_scope(call: Call) -> token_scope.Scope | None:
    token = call.principal.token
    return token.scope if token is not None else None


def requested_scope(call: Call) -> token_scope.Scope | None:
    """The scope the caller asks for, each account and zone checked by the access rule as
    the caller (so a scoped token can give only what its own scope reaches), and a record
    scope within the caller's own."""
    actor = access.actor_of(call.principal)

    def account(conn: Any, name: str) -> str:
        return access.require_account(conn, actor, name).username

    def zone(conn: Any, name: str) -> str:
        return access.require_zone(conn, actor, name).name

    lists = {n: [v for v in call.params.getlist(n) if v.strip()] for n in SCOPE_NAMES}
    scope = token_scope.build(
        call.conn,
        accounts=lists["scope_account"],
        zones=lists["scope_zone"],
        records=lists["scope_record"],
        record_types=lists["scope_record_type"],
        may_reach_account=account,
        may_reach_zone=zone,
    )
    mine = caller_scope(call)
    if mine is not None and mine.records:
        token_scope.check_given(mine, scope)
    return scope


def given_ips(call: Call) -> list[str]:
    """The `whitelist_ip` arguments, none of them empty: cPanel reads them with
    Whostmgr::API::1::Utils::get_length_arguments, which refuses an empty one before anything
    about the token is checked."""
    values = call.params.getlist("whitelist_ip")
    if any(v == "" for v in values):
        raise InvalidParameter("The “whitelist_ip” arguments cannot be empty.")
    return values


def parse_ips(values: Sequence[str]) -> list[str] | None:
    if not values or (len(values) == 1 and values[0].strip().lower() == "any"):
        return None
    if len(values) > ipnets.MAX_ENTRIES:
        raise InvalidParameter(
            f"You have entered “{len(values)}” IP addresses, which is above the limit of "
            f"{ipnets.MAX_ENTRIES}."
        )
    try:
        return ipnets.normalise(values)
    except ipnets.InvalidIpEntry as exc:
        raise InvalidParameter(f"Invalid IP address or CIDR range specified: {exc.entry}") from exc


def writer_name(call: Call) -> str:
    """`token_name` as Whostmgr/API/1/Tokens.pm `_build_create_or_update_args` takes it:
    only its absence is refused here; an empty one goes on to the writer's own checks."""
    name = call.params.get("token_name")
    if name is None:
        raise InvalidParameter("The parameter “token_name” is required.")
    return name


# What cPanel says of an empty `token_name=` on create: Validate.pm `_validate_common` throws
# Cpanel::Exception::MissingParameters for `name`, whose phrase names the first caller outside
# Cpanel::Exception and not private (`::_`) — Validate.pm's validate_creation — as "function".
EMPTY_NAME_ON_CREATE = (
    "Provide the “name” parameter for the "
    "“Cpanel::Security::Authn::APITokens::Validate::validate_creation” function."
)


def describe(token: Token) -> dict[str, Any]:
    """The shape create, update and get_details return."""
    out: dict[str, Any] = {
        "create_time": token.create_time,
        "expires_at": token.expires_at,
        "name": token.name,
        "whitelist_ips": list(token.whitelist_ips) if token.whitelist_ips else None,
    }
    if token.acls is not None:
        # Sorted here too, not only when written: a row stored before gatehouse sorted them
        # (in catalogue order) must answer as cPanel's would.
        out["acls"] = store.stored_acls(token.acls)
    # gatehouse's additions appear only when set: a client that never sets them sees
    # exactly cPanel's shape.
    if token.description is not None:
        out["description"] = token.description
    if token.rate_limit is not None:
        out["rate_limit"] = token.rate_limit
    if token.scope is not None:
        out["scope"] = token.scope.as_json()
    return out


def _audit(call: Call, action: str, token_name: str, detail: str | None = None) -> None:
    principal = call.principal
    via = f"via token {principal.token_name}" if principal.token_name else f"via {principal.method}"
    audit.record(
        call.conn,
        now=call.now,
        action=action,
        actor=principal.user.username,
        subject=principal.user.username,
        source_ip=call.peer,
        token_name=token_name,
        detail=f"{via}; {detail}" if detail else via,
    )


@REGISTRY.function(
    "api_token_create",
    "Create an API token. The token string is returned once, here, and never again.",
    params=(_NAME_IN_WRITER, _ACL, _EXPIRES, _IPS, DESCRIPTION, RATE_LIMIT, *SCOPE),
    privileges=MANAGE,
)
def api_token_create(call: Call) -> dict[str, Any]:
    # Every check in cPanel's order (Whostmgr/API/1/Tokens.pm, then Write.pm and Validate.pm),
    # which decides the reason a request with several faults gets: the name's presence, the
    # ACLs, empty `whitelist_ip`s, an empty name, then the validators by part name —
    # expires_at, name, whitelist_ips — and last a name already in use (store.create).
    with refused_as("create"):
        name = writer_name(call)
        if "acl" in call.params:
            token_acls: list[str] | None = parse_acls(call, call.params.getlist("acl"))
        elif call.principal.token is not None and not privileges.is_full_access(
            call.principal.token.acls
        ):
            # A limited token must not mint a broader one: "all of your privileges" means
            # the caller's effective set, stored explicitly, not the owner's full access.
            token_acls = store.stored_acls(list(call.principal.privileges))
        else:
            token_acls = None
        ip_values = given_ips(call)
        if name == "":
            raise InvalidParameter(EMPTY_NAME_ON_CREATE)
        expires_at = token_policy.capped_expiry(
            tokens_domain.parse_expiry(call.params.get("expires_at"), call.now),
            call.now,
            call.gatehouse.config.token_max_lifetime_days,
        )
        store.validate_name(name)
        ips = parse_ips(ip_values)
        token, plaintext = store.create(
            call.conn,
            owner=call.principal.user,
            service=store.WHOSTMGR,
            name=name,
            token_acls=token_acls,
            whitelist_ips=ips,
            expires_at=expires_at,
            now=call.now,
            description=call.params.get("description"),
            rate_limit=token_rate.parse_limit(call.params.get("rate_limit")),
            scope=requested_scope(call) or caller_scope(call),
        )
    _audit(call, audit.TOKEN_CREATE, name)
    # This is the only time the plaintext token is exposed.
    return {**describe(token), "token": plaintext}


# Catalogue names in the order the envelope's sort_keys writes them: the encoder's sort of a
# map that is already in order is one pass instead of a full sort.
_SORTED_NAMES: tuple[str, ...] = tuple(sorted(a.name for a in acls.CATALOGUE))


@lru_cache(maxsize=1024)
def _acl_map(owner_privs: frozenset[str], token_acls: tuple[str, ...] | None) -> dict[str, int]:
    """A listed token's `acls`: every catalogue privilege with 1 if the token's effective set
    grants it, else 0; a reseller's tokens are described only in terms of what the reseller
    holds. A template shared across calls: callers hand out copies, never this dict."""
    granted = privilege_map(privileges.effective(owner_privs, token_acls))
    if acls.ALL in owner_privs:
        return {n: granted[n] for n in _SORTED_NAMES}
    return {n: granted[n] for n in _SORTED_NAMES if n in owner_privs}


@REGISTRY.function(
    "api_token_list",
    "List the caller's API tokens (expired ones included), with last use.",
    privileges=MANAGE,
    readonly=True,
)
def api_token_list(call: Call) -> dict[str, Any]:
    owner = call.principal.user
    owner_privs = owner.privileges
    listed: dict[str, Any] = {}
    # Per call: the templates for the acl lists met so far (most tokens share a few).
    maps: dict[tuple[str, ...] | None, dict[str, int]] = {}
    rows = store.list_summaries(call.conn, owner.id, store.WHOSTMGR)
    for row in rows:
        name, stored, ips, create_time, expires_at, last_used, last_used_ip, text, agent = row[:9]
        grace, limit, scope = row[9], row[10], row[11]
        key = tuple(stored) if stored is not None else None
        template = maps.get(key)
        if template is None:
            template = maps[key] = _acl_map(owner_privs, key)
        # Keys in sorted order, as above. Every entry gets its own `acls` dict: the payload
        # must not share objects (YAML would print them as anchors and aliases).
        listed[name] = {
            "acls": template.copy(),
            "create_time": int(create_time),
            "expires_at": int(expires_at) if expires_at is not None else None,
            "last_used": int(last_used) if last_used is not None else None,
            "last_used_ip": last_used_ip,
            "name": name,
            "whitelist_ips": list(ips) if ips else None,
        }
        if text is not None:  # gatehouse's additions, only when set (as in `describe`)
            listed[name]["description"] = text
        if agent is not None:
            listed[name]["last_used_agent"] = agent
        if grace is not None and grace >= call.now:  # a rotated token's previous secret
            listed[name]["previous_token_expires_at"] = int(grace)
        if limit is not None:
            listed[name]["rate_limit"] = int(limit)
        if scope:
            listed[name]["scope"] = scope
    return {"tokens": listed}


@REGISTRY.function(
    "api_token_update",
    "Rename a token or replace its privileges, allowed addresses or expiry.",
    params=(
        _NAME_IN_WRITER,
        Param("new_name", "A new, unused name."),
        _ACL,
        _EXPIRES,
        Param("whitelist_ip", "Replaces the allowed addresses; `any` clears the list.", multi=True),
        DESCRIPTION,
        RATE_LIMIT,
        *SCOPE,
        Param(
            "clear_scope",
            "**gatehouse extension**: 1 removes the token's scope (not from a scoped token).",
            type="boolean",
        ),
    ),
    privileges=MANAGE,
)
def api_token_update(call: Call) -> dict[str, Any]:
    # cPanel's order (Whostmgr/API/1/Tokens.pm, Write.pm update_token, Validate.pm): the
    # name's presence, the ACLs, empty `whitelist_ip`s, then the token must exist — an unknown
    # one is refused as such whatever else is wrong or missing, an empty name included —, then
    # the validators by part name (expires_at, new_name, whitelist_ips), "nothing to change",
    # and last a new name already in use (store.update).
    with refused_as("update"):
        name = writer_name(call)
        token_acls = parse_acls(call, call.params.getlist("acl")) if "acl" in call.params else None
        ip_values = given_ips(call)
        current = store.get_by_name(call.conn, call.principal.user.id, store.WHOSTMGR, name)
        if current is None:
            raise NotFound(f"The API token “{name}” does not exist.")
        changes: dict[str, Any] = {}
        if "expires_at" in call.params:
            # The lifetime counts from when the token was made: an edit cannot lift it.
            changes["expires_at"] = token_policy.capped_expiry(
                tokens_domain.parse_expiry(call.params.get("expires_at"), call.now),
                current.create_time,
                call.gatehouse.config.token_max_lifetime_days,
            )
        new_name = call.params.get("new_name")
        if new_name is not None:
            store.validate_name(new_name)
            changes["new_name"] = new_name
        if "whitelist_ip" in call.params:
            changes["whitelist_ips"] = parse_ips(ip_values)
        if token_acls is not None:
            changes["token_acls"] = token_acls
        if "description" in call.params:
            changes["description"] = call.params.get("description")
        if "rate_limit" in call.params:
            changes["rate_limit"] = token_rate.parse_limit(call.params.get("rate_limit"))
        if call.params.get("clear_scope") in ("1", "true"):
            token_scope.check_given(caller_scope(call), None)
            changes["scope"] = None
        elif any(n in call.params for n in SCOPE_NAMES):
            changes["scope"] = requested_scope(call)
        if not changes:
            raise InvalidParameter("Specify a new name, updated ACLs, or IPs.")
        token = store.update(
            call.conn, user_id=call.principal.user.id, service=store.WHOSTMGR, name=name, **changes
        )
    detail = f"renamed from {name}" if token.name != name else None
    _audit(call, audit.TOKEN_UPDATE, token.name, detail)
    return describe(token)


@REGISTRY.function(
    "api_token_revoke",
    "Revoke tokens by name (`token_name`, `token_name-N`). Unknown names are not an error.",
    params=(
        Param(
            "token_name",
            "The token(s) to revoke.",
            required=True,
            multi=True,
            handler_refuses=True,
        ),
    ),
    privileges=MANAGE,
)
def api_token_revoke(call: Call) -> Reply:
    with refused_as("revoke"):
        # Whostmgr/API/1/Tokens.pm refuses only the absence of every `token_name(-N)`, inside
        # its try; an empty one is a name no token has, so nothing is revoked and all is well.
        names = call.params.getlist("token_name")
        if not names:
            raise InvalidParameter("Provide at least one “token_name” argument.")
        revoked = store.revoke(call.conn, call.principal.user.id, store.WHOSTMGR, names)
    for name in revoked:
        _audit(call, audit.TOKEN_REVOKE, name)
    return Reply(has_data=False)


GRACE = Param(
    "grace_period",
    "Seconds the previous secret keeps working (default 86400, 24 hours; 0: it stops now; "
    "at most 30 days).",
    type="integer",
)


def rotation_answer(rotated: token_rotation.Rotated) -> dict[str, Any]:
    return {
        **describe(rotated.token),
        "token": rotated.plaintext,
        "previous_token_expires_at": rotated.previous_expires_at,
    }


@REGISTRY.function(
    "gatehouse_rotate_api_token",
    "**gatehouse extension**: give one of the caller's tokens a new secret (returned once, "
    "here) under the same name, privileges, addresses and expiry; the previous secret keeps "
    "working for `grace_period` seconds (default 24 hours), so its clients can be moved one "
    "by one. Revoking the token stops both at once.",
    params=(_NAME, GRACE),
    privileges=MANAGE,
)
def gatehouse_rotate_api_token(call: Call) -> dict[str, Any]:
    name = call.require("token_name")
    grace = token_rotation.parse_grace(call.params.get("grace_period"))
    with refused_as("rotate"):
        rotated = token_rotation.rotate(
            call.conn,
            user_id=call.principal.user.id,
            service=store.WHOSTMGR,
            name=name,
            now=call.now,
            grace=grace,
        )
    _audit(call, audit.TOKEN_ROTATE, name, f"previous secret works {grace} s more")
    return rotation_answer(rotated)


@REGISTRY.function(
    "gatehouse_end_api_token_grace",
    "**gatehouse extension**: stop the previous secret of a rotated token now, before its "
    "grace period ends (`ended`: 0 when it had none working).",
    params=(_NAME,),
    privileges=MANAGE,
)
def gatehouse_end_api_token_grace(call: Call) -> dict[str, Any]:
    name = call.require("token_name")
    with refused_as("update"):
        ended = token_rotation.end_grace(
            call.conn, user_id=call.principal.user.id, service=store.WHOSTMGR, name=name
        )
    if ended:
        _audit(call, audit.TOKEN_GRACE_END, name)
    return {"ended": int(ended)}


@REGISTRY.function(
    "api_token_get_details",
    "Describe the caller's token with this value (expired tokens count as absent).",
    params=(Param("token", "The token string.", required=True, secret=True),),
    privileges=MANAGE,
    readonly=True,
)
def api_token_get_details(call: Call) -> Reply:
    value = call.require("token")
    token = store.get_by_plaintext(call.conn, call.principal.user.id, store.WHOSTMGR, value)
    if token is None or token.is_expired(call.now):
        return Reply(has_data=False)
    return Reply(data=describe(token))


@REGISTRY.function(
    "gatehouse_list_stale_api_tokens",
    "**gatehouse extension**: every user's unexpired API tokens (WHM and cPanel) unused for "
    "`days` days (default 90) or never used and older than that, the longest unused first: "
    "the review cPanel's advice asks for (docs/governance.md).",
    params=(Param("days", "Days without use (default 90).", type="integer"),),
    privileges=(acls.ALL,),
    readonly=True,
)
def gatehouse_list_stale_api_tokens(call: Call) -> dict[str, Any]:
    raw = call.params.get("days") or "90"
    if not digits(raw) or not 0 < int(raw) <= 36500:
        raise InvalidParameter(
            f"“days” must be a whole number of days from 1 to 36500, not “{raw}”."
        )
    days = int(raw)
    found = token_policy.stale(call.conn, call.now, days)
    return {
        "days": days,
        "tokens": [
            {
                "user": t.owner,
                "service": t.service,
                "name": t.name,
                "description": t.description,
                "create_time": t.create_time,
                "expires_at": t.expires_at,
                "last_used": t.last_used_time,
                "last_used_ip": t.last_used_ip,
            }
            for t in found
        ],
    }


_SERVICES = {"all": None, "whm": store.WHOSTMGR, "cpanel": store.CPANEL}


def _revoked(call: Call, revoked: list[token_policy.Revoked], why: str) -> dict[str, Any]:
    for t in revoked:
        audit.record(
            call.conn, now=call.now, action=audit.TOKEN_REVOKE, actor=call.principal.user.username,
            subject=t.owner, source_ip=call.peer, token_name=t.name,
            detail=f"{t.service} token; {why}",
        )  # fmt: skip
    return {"revoked": [{"user": t.owner, "service": t.service, "name": t.name} for t in revoked]}


@REGISTRY.function(
    "gatehouse_revoke_user_api_tokens",
    "**gatehouse extension**: revoke every API token of one user at once (a leaked machine, "
    "a departed contractor), each audited.",
    params=(
        Param("user", "The user whose tokens go.", required=True),
        Param("service", "`all` (default), `whm` or `cpanel`."),
    ),
    privileges=(acls.ALL,),
)
def gatehouse_revoke_user_api_tokens(call: Call) -> dict[str, Any]:
    username = call.require("user")
    kind = (call.params.get("service") or "all").strip().lower()
    if kind not in _SERVICES:
        raise InvalidParameter(f"“service” must be all, whm or cpanel, not “{kind}”.")
    owner = users_domain.get(call.conn, username)
    if owner is None:
        raise NotFound(f"The user “{username}” does not exist.")
    revoked = token_policy.revoke_where(call.conn, *token_policy.of_user(owner.id, _SERVICES[kind]))
    return _revoked(call, revoked, f"all of {username}'s {kind} tokens revoked at once")


@REGISTRY.function(
    "gatehouse_revoke_api_tokens_used_from",
    "**gatehouse extension**: revoke every API token (any user, WHM and cPanel) whose last "
    "recorded use came from one address, each audited.",
    params=(Param("ip", "The address (IPv4 or IPv6).", required=True),),
    privileges=(acls.ALL,),
)
def gatehouse_revoke_api_tokens_used_from(call: Call) -> dict[str, Any]:
    raw = call.require("ip").strip()
    try:
        address = str(ipaddress.ip_address(raw))
    except ValueError:
        raise InvalidParameter(f"“{raw}” is not an IP address.") from None
    revoked = token_policy.revoke_where(call.conn, *token_policy.last_used_from(address))
    return _revoked(call, revoked, f"last used from {address}; revoked at once")
