"""install_service_ssl_certificate, fetch_service_ssl_components: the certificate of
gatehouse's own TLS ports (gatehouse.domain.service_ssl; docs/ssl.md#the-service-certificate).

Parameters and answers follow cPanel's WHM API 1 reference: `service`, `crt`, `key`,
`cabundle`; `data.services = [{service, certificate, cabundle, certificate_info}]` with `""`
for a missing bundle. Root's: the certificate every caller's TLS connection meets.
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import service_ssl
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)


def _served(call: Call) -> None:
    """Once committed: this process serves it from its next handshake (and waits for that)."""
    changed = call.gatehouse.service_certificate_changed
    if changed is not None:
        call.after_commit.append(changed)


@REGISTRY.function(
    "install_service_ssl_certificate",
    "Install the certificate of gatehouse's own TLS ports (service `cpanel`): checked, stored "
    "(the key encrypted) and served from the next TLS handshake on, without a restart.",
    params=(
        Param("service", "The service: `cpanel` (the WHM and cPanel TLS ports).", required=True),
        Param("crt", "The certificate (PEM).", required=True),
        Param("key", "The certificate's private key (PEM).", required=True, secret=True),
        Param("cabundle", "The CA bundle (PEM): the chain must verify up to it."),
    ),
    privileges=ROOT_ONLY,
    slow=True,
)
def install_service_ssl_certificate(call: Call) -> dict[str, Any]:
    service = service_ssl.check_service(call.require("service"))
    done = service_ssl.install(
        call,
        call.gatehouse.keyring,
        service,
        call.require("crt"),
        call.require("key"),
        call.params.get("cabundle"),
    )
    _served(call)
    return {
        "cabundle": done.cabundle or "",
        "certificate": done.pem,
        "certificate_info": service_ssl.certificate_info(done.pem),
        "service": service,
    }


@REGISTRY.function(
    "fetch_service_ssl_components",
    "The services and the certificate each presents (never the key).",
    privileges=ROOT_ONLY,
    readonly=True,
)
def fetch_service_ssl_components(call: Call) -> dict[str, Any]:
    found = service_ssl.installed(call.conn)
    pem: str | None
    if found is not None:
        pem, bundle = found.pem, found.cabundle or ""
    else:  # what the listeners present until one is installed: the configured pair
        pem, bundle = service_ssl.configured_certificate(call.gatehouse.config.cert_path), ""
    services = []
    if pem:
        services.append(
            {
                "cabundle": bundle,
                "certificate": pem,
                "certificate_info": service_ssl.certificate_info(pem),
                "service": "cpanel",
            }
        )
    return {"services": services}
