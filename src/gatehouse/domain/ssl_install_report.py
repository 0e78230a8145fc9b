"""What an SSL install says it did, in cPanel's words: the `action`, `message` and `html` of
Cpanel::SSLInstall::real_installssl, which WHM's installssl answers (API 1: `metadata.reason`
is the message, `metadata.output.raw` the html; API 0: `statusmsg` and `rawout`) and UAPI
`SSL::install_ssl` returns in its `data`.

real_installssl tells three cases apart by what the domain had before:
  * nothing, or another certificate: installed (action `install`, or `update` with one more
    sentence), then "Apache is restarting in the background." — gatehouse's counterpart is
    the operator's reload command, run in the background after the files are written
    (docs/ssl.md); the sentence is kept as cPanel's fixed words, which clients show;
  * the same certificate with another CA bundle: `update_cabundle`;
  * the same certificate and bundle: `none`, "The system made no changes."
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatehouse.domain import certificates, ssl_pem
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User

_RESTART = "Apache is restarting in the background."
_ALREADY = "This certificate was already installed on this host."
_UPDATED_VHOST = "The existing virtual host was updated with the new certificate."


@dataclass(frozen=True, slots=True)
class Report:
    action: str  # install | update | update_cabundle | none
    message: str
    html: str


def answer(
    said: Report, done: certificates.Installed, account: User, domain: str, ip: str
) -> dict[str, Any]:
    """The installer's answer, as WHM's installssl and UAPI's install_ssl give it in `data`
    (with the stored certificate's and key's ids)."""
    return {
        "action": said.action,
        "aliases": [],
        "cert_id": done.certificate.cert_id,
        "domain": domain,
        "html": said.html,
        "ip": ip,
        "key_id": done.certificate.key_id,
        "message": said.message,
        "servername": domain,
        "status": 1,
        "statusmsg": said.message,
        "user": account.username,
        "warning_domains": [],
        "working_domains": [domain],
    }


def report(
    before: certificates.Installed | None, after: certificates.Installed, domain: str, ip: str
) -> Report:
    """The report of installing `after` on `domain`, which had `before`."""
    if before is not None and before.certificate.fingerprint == after.certificate.fingerprint:
        if (before.cabundle or None) != (after.cabundle or None):
            said = (
                f"{_ALREADY} The system updated the Certificate Authority bundle for the "
                "current SSL installation."
            )
            action = "update_cabundle"
        else:
            said = f"{_ALREADY} The system made no changes."
            action = "none"
        return Report(action, said, f"<br /><b>{said}</b><br />\n")
    done = (
        f"The SSL certificate is now installed onto the domain “{domain}” using the IP "
        f"address “{ip}”."
    )
    if before is None:
        return Report("install", f"{done} {_RESTART}\n", f"<br>{done}<br />{_RESTART}")
    return Report(
        "update",
        f"{done}\n{_UPDATED_VHOST} {_RESTART}\n",
        f"<br>{done}\n<br />\n{_UPDATED_VHOST}<br />{_RESTART}",
    )


def install(
    unit: UnitOfWork,
    keyring: KeyRing,
    account: User,
    domain: str,
    crt: str,
    key: str,
    cab: str | None,
    ip: str,
) -> tuple[certificates.Installed, Report]:
    """certificates.install_from_text, and what it did. The same certificate given again
    without a bundle keeps the bundle it was installed with, as cPanel's install leaves an
    installed certificate alone."""
    before = certificates.installed_on(unit.conn, domain)
    if before is not None and not (cab or "").strip():
        same = ssl_pem.parse_certificate(crt).fingerprint == before.certificate.fingerprint
        cab = before.cabundle if same else cab
    after = certificates.install_from_text(unit, keyring, account, domain, crt, key, cab)
    return after, report(before, after, domain, ip)
