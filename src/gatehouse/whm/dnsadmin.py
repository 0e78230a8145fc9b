"""The receiving side of cPanel's DNS cluster protocol on the WHM ports (docs/cluster.md):
`/scripts2/<action>_local`, as cPanel's remote dnsadmin module (`Cpanel::NameServer::Remote::
cPanel`, through `cPanel::PublicAPI::WHM::DNS`) calls it. Authenticated like any WHM call
(token, access hash, password), the `clustering` privilege required; answers are plain text,
as that module reads them. Beside them, cPanel::PublicAPI's legacy `/scripts2/gethostname`
and `/scripts2/showversion`, which a cPanel master's reverse trust setup calls.

A request carries `dnsuniqid`, the id of one cluster operation: a change that comes back
with an id that any process or node on the store applied in the last ten minutes (a ring of
peers, a retry) is answered without being applied again."""

from __future__ import annotations

import contextlib
import gzip
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import sqlalchemy as sa

from gatehouse import WHM_COMPAT_VERSION, acls
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Denial, Principal, rate_limited
from gatehouse.core import Gatehouse
from gatehouse.dns.zones import NewZone
from gatehouse.domain import audit, cluster_peers, cluster_trust, cluster_zones, ips
from gatehouse.errors import GatehouseError
from gatehouse.http import asgi

log = logging.getLogger("gatehouse.cluster")

PRIVILEGE = "clustering"
# What WHM API 1's gethostname and version need, and so their /scripts2/ forms.
LEGACY_PRIVILEGES = ("basic-system-info", "clustering")
PREFIX = "cpdnszone-"
# A cPanel synczones batch: 512 `cpdnszone-` fields (Cpanel/DnsUtils/Constants.pm), and with
# keys=>1 one `cpdnskeyTAG-ZONE` field per DNSSEC key of each (two or more, more in a rollover).
MAX_PARAMETERS = 20_000

TRUST_PATH = "/cgi/trustclustermaster.cgi"


@dataclass(frozen=True, slots=True)
class Page:
    """An HTML answer (trustclustermaster.cgi answers as cPanel's CGI page does)."""

    status: int
    html: str


Action = Callable[[Principal, Params, str | None, bool], str | bytes | Page]
Authenticate = Callable[[dict[bytes, bytes], str | None], Awaitable[Principal | Denial]]


class DnsAdmin:
    def __init__(self, gatehouse: Gatehouse, authenticate: Authenticate) -> None:
        self.gatehouse = gatehouse
        self.authenticate = authenticate
        self.actions: dict[str, Action] = {
            "savezone": self._save,
            "quickzoneadd": self._quickzoneadd,
            "synczones": self._synczones,
            "getzone": self._getzone,
            "getzones": self._getzones,
            "getallzones": self._getallzones,
            "getzonelist": self._getzonelist,
            "zoneexists": self._zoneexists,
            "getips": self._getips,
            "getpath": self._getpath,
            "removezone": self._removezone,
            "removezones": self._removezones,
            "addzoneconf": self._nothing_to_do,
            "reloadbind": self._nothing_to_do,
            "reloadzones": self._nothing_to_do,
            "reconfigbind": self._nothing_to_do,
            "cleandns": self._nothing_to_do,
        }
        # cPanel::PublicAPI's legacy calls (WHM/Legacy.pm): showhostname() and version(). A
        # cPanel master setting up reverse trust asks the node's host name this way (and
        # refuses one holding \r, \n or \0: no line break after it).
        self.legacy: dict[str, Action] = {
            "gethostname": lambda _p, _params, _peer, _gz: self._host(),
            "showversion": lambda _p, _params, _peer, _gz: WHM_COMPAT_VERSION,
        }

    async def serve(
        self,
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
        path: str,
        state: dict[str, Any],
    ) -> None:
        name = path.removeprefix("/scripts2/")
        privileges: tuple[str, ...] = (PRIVILEGE,)
        if path == TRUST_PATH:
            action: Action | None = self._trust
        elif name.endswith("_local"):
            action = self.actions.get(name.removesuffix("_local"))
        else:
            action = self.legacy.get(name)
            privileges = LEGACY_PRIVILEGES
        if action is None:
            await _text(send, 404, f"No such dnsadmin action: {path}\n")
            return
        headers = asgi.headers(scope)
        peer = asgi.peer(scope)
        # The peer is known before its body is read: only a peer holding `clustering` may send
        # a cPanel-sized batch (up to 512 zones a synczones), so nobody else makes this
        # process hold GATEHOUSE_MAX_CLUSTER_BODY bytes.
        principal = await self.authenticate(headers, peer)
        if isinstance(principal, Denial) or not any(
            acls.holds(principal.privileges, p) for p in privileges
        ):
            # Read (up to the API's own limit) and dropped, so that the connection can carry
            # the client's next request; a larger body closes it.
            await _settle(headers, receive, self.gatehouse.config.max_body)
        if isinstance(principal, Denial):
            state["user"] = principal.username or "-"
            self.gatehouse.authenticator.record_denial(principal, peer, path)
            limited = rate_limited(principal)
            if limited is not None:
                await _text(send, 429, limited[0] + "\n", limited[1])
                return
            await _text(send, 401, "Access denied\n")
            return
        state["user"], state["auth"] = principal.user.username, principal.method
        if not any(acls.holds(principal.privileges, p) for p in privileges):
            needed = " or ".join(f"“{p}”" for p in privileges)
            await _text(send, 403, f"Permission denied: the {needed} privilege is needed.\n")
            return
        limit = self.gatehouse.config.max_cluster_body
        try:
            body = await asgi.read_body(headers, receive, limit)
        except asgi.BodyTooLarge:
            await _text(send, 413, f"The request body exceeds the limit of {limit} bytes.\n")
            return
        try:
            params = Params.from_request(scope.get("query_string", b""), body, MAX_PARAMETERS)
        except GatehouseError as exc:
            await _text(send, 400, f"Error: {exc.reason}\n")
            return
        gzip_ok = b"gzip" in headers.get(b"accept-encoding", b"")
        try:
            answer = await anyio.to_thread.run_sync(
                lambda: action(principal, params, peer, gzip_ok)
            )
        except GatehouseError as exc:
            await _text(send, 400, f"Error: {exc.reason}\n")
            return
        if isinstance(answer, Page):
            await asgi.respond(
                send, answer.status, answer.html.encode(), [asgi.HTML, asgi.NO_STORE]
            )
            return
        if isinstance(answer, bytes):
            await asgi.respond(
                send,
                200,
                answer,
                [asgi.TEXT, asgi.NO_STORE, (b"content-encoding", b"gzip")],
            )
            return
        await _text(send, 200, answer)

    # -- changes ----------------------------------------------------------------------------

    def _sender(self, principal: Principal, peer: str | None) -> cluster_zones.Sender:
        return cluster_zones.Sender(principal.user.username, peer)

    def _first_time(self, conn: sa.Connection, params: Params, action: str, zones: str) -> bool:
        uniqid = params.get("dnsuniqid") or ""
        return cluster_zones.first_time(conn, uniqid, action, zones, self._now())

    def _save(self, principal: Principal, params: Params, peer: str | None, _gz: bool) -> str:
        zone = cluster_zones.zone_name(params.get("zone"))
        text = params.get("zonedata")
        if text is None or not text.strip():
            raise GatehouseError(f"No zone data was sent for “{zone}”.")
        given = cluster_zones.check(zone, text)
        with self.gatehouse.engine.begin() as conn:
            applied = self._first_time(conn, params, "save", zone)
            if applied:
                cluster_zones.save(conn, given, self._sender(principal, peer), self._now())
        if applied:
            self._after_change()
        return f"Saved zone {zone} on {self._host()}\n"

    def _quickzoneadd(
        self, principal: Principal, params: Params, peer: str | None, gz: bool
    ) -> str:
        # cPanel's own sender (Cpanel/DnsUtils/Add.pm) looks for this sentence in the output.
        self._save(principal, params, peer, gz)
        zone = cluster_zones.zone_name(params.get("zone"))
        return f"Zone {zone} has been successfully added\n"

    def _synczones(self, principal: Principal, params: Params, peer: str | None, _gz: bool) -> str:
        """Every good zone of the batch is stored and a bad one skipped, with a line saying
        why: cPanel's synczones skips a bad name, a zone that fails its check or cannot be
        written (`next`) and answers success, and a batch is up to 512 zones of a whole
        server — one broken zone must not keep the other 511 from the peer."""
        sent = [
            (key[len(PREFIX) :], params.get(key) or "") for key in params if key.startswith(PREFIX)
        ]
        if not sent:
            raise GatehouseError("No zones were sent (expected cpdnszone-ZONE=TEXT fields).")
        host = self._host()
        checked: list[NewZone] = []
        lines: list[str] = []
        # Checked before the transaction: a skipped zone writes nothing, and dnspython's read
        # of up to 512 zones does not hold SQLite's write lock.
        for raw, text in sent:
            try:
                given = cluster_zones.check(raw, text)
            except GatehouseError as exc:
                lines.append(_one_line(f"Skipped zone {raw} on {host}: {exc.reason}") + "\n")
                log.warning("synczones from %s: zone %r skipped: %s", peer, raw, exc.reason)
                continue
            checked.append(given)
            lines.append(f"Saved zone {given.name} on {host}\n")
        sender = self._sender(principal, peer)
        applied = False
        if checked:
            with self.gatehouse.engine.begin() as conn:
                applied = self._first_time(conn, params, "sync", ",".join(z.name for z in checked))
                if applied:
                    for given in checked:
                        cluster_zones.save(conn, given, sender, self._now())
        if applied:
            self._after_change()
        return "".join(lines)

    def _removezone(self, principal: Principal, params: Params, peer: str | None, _gz: bool) -> str:
        return self._remove(principal, [params.get("zone") or ""], params, peer)

    def _removezones(
        self, principal: Principal, params: Params, peer: str | None, _gz: bool
    ) -> str:
        given = params.get("zones") or params.get("zone") or ""
        return self._remove(principal, [z for z in given.split(",") if z.strip()], params, peer)

    def _remove(
        self, principal: Principal, given: list[str], params: Params, peer: str | None
    ) -> str:
        """cPanel's removezones: `ZONE => deleted from SHORTHOST. ` for each zone actually
        removed, then `Unable to remove zone(s): “A,B” on SHORTHOST.` for the rest (a zone
        this node does not have, a name that is no zone name), and success either way."""
        wanted = list(dict.fromkeys(z.strip() for z in given if z.strip()))
        if not wanted:
            raise GatehouseError("No zone was named.")
        names = [cluster_zones.zone_name(z) for z in wanted if _is_zone_name(z)]
        unable = [_one_line(z) for z in wanted if not _is_zone_name(z)]
        removed: list[str] = []
        sender = self._sender(principal, peer)
        with self.gatehouse.engine.begin() as conn:
            applied = self._first_time(conn, params, "remove", ",".join(names))
            for name in names:
                # A repeated dnsuniqid is not applied again, so removes nothing: as cPanel
                # asked to remove a zone it does not have, it says so.
                gone = applied and cluster_zones.remove(conn, name, sender, self._now())
                (removed if gone else unable).append(name)
        if removed:
            self._after_change()
        short = self._host().split(".")[0]  # cPanel's shorthost
        lines = [f"{name} => deleted from {short}. \n" for name in removed]
        if unable:
            plural = "s" if len(unable) > 1 else ""
            lines.append(
                f"Unable to remove zone{plural}: “{','.join(sorted(unable))}” on {short}.\n"
            )
        return "".join(lines)

    def _nothing_to_do(self, _p: Principal, params: Params, _peer: str | None, _gz: bool) -> str:
        # gatehouse writes its zone files (and runs the reload command) on every change.
        self._after_change()
        return "OK: the zone files are current.\n"

    def _trust(self, principal: Principal, params: Params, peer: str | None, _gz: bool) -> Page:
        """cPanel's reverse trust request: keep the master as a standalone peer."""
        config = self.gatehouse.config
        own = set(self._addresses())
        form = {key: params.get(key) or "" for key in ("clustermaster", "user", "pass", "port")}
        try:
            request = cluster_trust.parse(
                form, own_addresses=own, own_ports={config.https_port, config.http_port} - {0}
            )
            cluster_trust.verify(request)
        except cluster_trust.TrustRefused as refused:
            return Page(400, trust_page("errormsg", refused.message))
        with self.gatehouse.engine.begin() as conn:
            trusted, new = cluster_trust.establish(
                conn, self.gatehouse.keyring, request, self._now()
            )
            audit.record(
                conn, now=self._now(), action="CLUSTERTRUST", actor=principal.user.username,
                subject=trusted.label, source_ip=peer,
                detail=("new standalone peer" if new else "user and token replaced")
                + f", user {request.user}",
            )  # fmt: skip
        return Page(200, trust_page("okmsg", cluster_trust.ESTABLISHED))

    # -- reads --------------------------------------------------------------------------------

    def _getzone(self, _p: Principal, params: Params, _peer: str | None, _gz: bool) -> str:
        with self.gatehouse.engine.connect() as conn:
            return cluster_zones.text_of(conn, params.get("zone") or "") or ""

    def _getzones(self, _p: Principal, params: Params, _peer: str | None, gz: bool) -> str | bytes:
        given = params.get("zones") or params.get("zone") or ""
        # As cPanel's getzones, a name that is not a zone here is left out (a bad one too:
        # the rest of the list is still answered).
        return self._encoded([n for n in given.split(",") if _is_zone_name(n)], gz)

    def _getallzones(
        self, _p: Principal, _params: Params, _peer: str | None, gz: bool
    ) -> str | bytes:
        with self.gatehouse.engine.connect() as conn:
            names = cluster_zones.names(conn)
        return self._encoded(names, gz)

    def _encoded(self, names: list[str], gz: bool) -> str | bytes:
        """`cpdnszone-NAME=TEXT&…`, URI-encoded, as cPanel's getallzones answers (gzip when
        the client accepts it: cPanel's module un-gzips what it can, else reads it as is)."""
        parts = []
        with self.gatehouse.engine.connect() as conn:
            for name in names:
                name = cluster_zones.zone_name(name)
                text = cluster_zones.text_of(conn, name)
                if text is not None:
                    parts.append(f"{PREFIX}{quote(name, safe='')}={quote(text, safe='')}")
        answer = "&".join(parts)
        return gzip.compress(answer.encode()) if gz else answer

    def _getzonelist(self, _p: Principal, _params: Params, _peer: str | None, _gz: bool) -> str:
        with self.gatehouse.engine.connect() as conn:
            return "".join(f"{name}\n" for name in cluster_zones.names(conn))

    def _zoneexists(self, _p: Principal, params: Params, _peer: str | None, _gz: bool) -> str:
        with self.gatehouse.engine.connect() as conn:
            return "1" if cluster_zones.text_of(conn, params.get("zone") or "") else "0"

    def _getips(self, _p: Principal, _params: Params, _peer: str | None, _gz: bool) -> str:
        return "".join(f"{address}\n" for address in self._addresses())

    def _getpath(self, _p: Principal, _params: Params, _peer: str | None, _gz: bool) -> str:
        """`OWN-HOSTNAME PEER-HOST` a line for each peer this node pushes to, nothing without
        one: cPanel's getpath (one line per dnspeer), which a master's cluster trace
        (Whostmgr/DNS/Trace.pm) splits into master and slave to draw the cluster's paths."""
        with self.gatehouse.engine.connect() as conn:
            hosts = [peer.host for peer in cluster_peers.pushed_to(conn)]
        # cPanel keeps one peer per host; two gatehouse peers on one host are one path.
        return "".join(f"{self._host()} {host}\n" for host in dict.fromkeys(hosts))

    # -- helpers ------------------------------------------------------------------------------

    def _now(self) -> int:
        return self.gatehouse.now()

    def _addresses(self) -> list[str]:
        """This node's addresses (GATEHOUSE_IPS, else the bind address), the main one first."""
        return [a.ip for a in ips.of_server(self.gatehouse.config)]

    def _host(self) -> str:
        return self.gatehouse.config.server_hostname

    def _after_change(self) -> None:
        self.gatehouse.authenticator.invalidate_cache()
        self.gatehouse.zone_publisher.sync_after_change()


def _is_zone_name(raw: str) -> bool:
    try:
        cluster_zones.zone_name(raw)
    except GatehouseError:
        return False
    return True


def _one_line(text: str) -> str:
    # A name or reason quoting what a peer sent may hold line breaks: one line per zone.
    return "".join(c if c.isprintable() else "?" for c in text)


def trust_page(kind: str, message: str) -> str:
    # cPanel's page puts both outcomes in a div of this id; clients match the text.
    return (
        "<!DOCTYPE html>\n<html><head><title>DNS Cluster Trust</title></head><body>\n"
        f'<div class="{kind}" id="trustRelationshipFailed">{html.escape(message)}</div>\n'
        "</body></html>\n"
    )


async def _settle(headers: dict[bytes, bytes], receive: asgi.Receive, limit: int) -> None:
    """The body of a request refused before reading it, read and dropped."""
    with contextlib.suppress(asgi.BodyTooLarge, asgi.BodyIncomplete):
        await asgi.read_body(headers, receive, limit)


async def _text(
    send: asgi.Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await asgi.respond(send, status, text.encode(), [asgi.TEXT, asgi.NO_STORE, *(extra or [])])
