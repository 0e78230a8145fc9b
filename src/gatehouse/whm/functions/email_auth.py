"""WHM API 1 `install_spf_records`: set the SPF record of domains of any accounts the caller
reaches (cPanel's Whostmgr/API/1/EmailAuth.pm): `domain` and `record` in pairs (`domain-1`,
`record-1`, …); each account's domains installed as UAPI `EmailAuth::install_spf_records`
installs them (domain/spf_records.py), one account after another; `data.payload` lists every
domain's `{"domain","status","msg"}`.

Who may: root, or a reseller for its own accounts' domains (Whostmgr::Authz::
verify_domain_access); every domain is checked before anything is changed, and one that is not
reachable refuses the call: `The account “CALLER” does not control the “D” domain.`
Privilege: `manage-dns-records`, as for gatehouse's other record edits (cPanel's table is not
public). Choice: the server's own host name is not an account's domain here, so it is refused
like any other domain no account holds.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import access, domain_lookup, spf_records
from gatehouse.domain.users import User
from gatehouse.errors import GatehouseError, InvalidParameter
from gatehouse.whm.registry import REGISTRY


@REGISTRY.function(
    "install_spf_records",
    "Set the SPF record of one or more domains (`domain`/`record` pairs).",
    params=(
        Param("domain", "A domain (repeat, or domain-1, domain-2, …).", multi=True),
        Param("record", "Its SPF record, in the same order.", multi=True),
    ),
    privileges=("manage-dns-records",),
    slow=True,
)
def install_spf_records(call: Call) -> dict[str, Any]:
    wanted = spf_records.domain_records(call.params.paired("domain", "record"))
    actor = access.actor_of(call.principal)
    owners: dict[int, tuple[User, dict[str, str]]] = {}
    invalid: list[str] = []
    for domain, record in wanted.items():
        try:
            account = domain_lookup.owner_of(call.conn, actor, domain)
        except GatehouseError:
            invalid.append(domain)
            continue
        owners.setdefault(account.id, (account, {}))[1][domain] = record
    if invalid:
        noun = "domain" if len(invalid) == 1 else "domains"
        raise InvalidParameter(
            f"The account “{call.principal.user.username}” does not control the "
            f"{spf_records.list_and_quoted(invalid)} {noun}."
        )
    payload: list[dict[str, object]] = []
    for account, records in owners.values():
        payload.extend(s.as_dict() for s in spf_records.install(call, account, records))
    return {"payload": payload}
