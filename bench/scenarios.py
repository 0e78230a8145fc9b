"""The scenarios, by number and key, as the issue lists them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scenario:
    number: int
    key: str
    title: str
    load: bool  # driven by wrk (throughput and latency) rather than timed one by one


ALL: tuple[Scenario, ...] = (
    Scenario(1, "floor", "Floor: bare ASGI app, same bytes, same granian", True),
    Scenario(10, "healthz", "gatehouse GET /healthz (default configuration)", True),
    Scenario(2, "token", "Token: /json-api/version, whm root:TOKEN (default config)", True),
    Scenario(11, "token_whm_only", "Token, the WHM HTTP port alone", True),
    Scenario(3, "token_1m", "Token, 1,000,000 tokens in the store", True),
    Scenario(4, "allowlist", "Token, 100-entry IP allow-list (match last)", True),
    Scenario(5, "basic", "Basic auth (root's Argon2 password)", True),
    Scenario(6, "list", "api_token_list, 100 tokens", True),
    Scenario(15, "token_cphulk", "Token while cPHulk black-lists other addresses", True),
    Scenario(14, "uapi", "cPanel token: UAPI DomainInfo::list_domains (default config)", True),
    Scenario(7, "revocation", "Revocation seen by a second process", False),
    Scenario(8, "dns", "DNS: 10,000-record zone via the API; nameserver queries/s", False),
    Scenario(9, "startup", "Start-up time and resident memory", False),
    Scenario(12, "cluster", "DNS cluster: a TXT change until both peers answer it", False),
    Scenario(13, "scale", "Hosting scale: 10,000 accounts; 100,000 zones", False),
)
BY_KEY = {s.key: s for s in ALL}


def select(spec: str | None) -> list[Scenario]:
    """`1,2,token_1m` → those scenarios, in the order of `ALL`; None → all of them."""
    if not spec:
        return list(ALL)
    wanted: set[str] = set()
    for part in spec.split(","):
        item = part.strip()
        if not item:
            continue
        match = next((s for s in ALL if item in (s.key, str(s.number))), None)
        if match is None:
            names = ", ".join(f"{s.number}={s.key}" for s in ALL)
            raise ValueError(f"unknown scenario {item!r} (choose from {names})")
        wanted.add(match.key)
    return [s for s in ALL if s.key in wanted]
