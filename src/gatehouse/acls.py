"""The WHM privilege (ACL) catalogue, as cPanel 11.120 ships it (Whostmgr/ACLS/Data.pm).

One registry for every privilege name: validation, `listacls`, `myprivs`, `api_token_list`
and the docs are all generated from it, so a privilege cannot exist in one place only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ALL = "all"


@dataclass(frozen=True, slots=True)
class Acl:
    name: str
    title: str
    category: str
    dnsonly: bool = False
    default: bool = False  # granted to a new reseller
    warning: bool = False  # lets a token user step around token restrictions


def _acls(category: str, *rows: tuple[str, str] | tuple[str, str, str]) -> list[Acl]:
    out = []
    for row in rows:
        name, title = row[0], row[1]
        flags = row[2] if len(row) == 3 else ""
        out.append(
            Acl(
                name,
                title,
                category,
                dnsonly="d" in flags,
                default="D" in flags,
                warning="w" in flags,
            )
        )
    return out


# Flags: d = allowed on DNSONLY servers, D = default for new resellers, w = UI warning.
CATALOGUE: tuple[Acl, ...] = tuple(
    _acls(
        "basicprivileges",
        ("acct-summary", "Account Summary", "D"),
        ("basic-system-info", "Basic System Information", "dD"),
        ("basic-whm-functions", "Basic WHM Functions", "dD"),
        ("connected-applications", "Connected Applications", "D"),
        ("cors-proxy-get", "Allow CORS HTTP Requests", "D"),
        ("cpanel-api", "Perform cPanel API and UAPI functions through the WHM API", "Dw"),
        ("cpanel-integration", "Manage cPanel Integration Links", "D"),
        ("create-user-session", "Create User Session", "dDw"),
        ("digest-auth", "Manage Digest Authentication", "D"),
        ("generate-email-config", "Generate Email Configuration", "D"),
        ("list-pkgs", "List Packages", "D"),
        ("manage-api-tokens", "Manage API Tokens", "dDw"),
        ("manage-dns-records", "Manage DNS Records", "dD"),
        ("manage-oidc", "Manage External Authentications", "D"),
        ("manage-styles", "Manage Styles", "dD"),
        ("mysql-info", "View MySQL Server Information", "D"),
        ("ns-config", "Nameserver Configuration", "dD"),
        ("public-contact", "Public Contact", "D"),
        ("ssl-info", "SSL Information", "dD"),
        ("track-email", "Track Email", "D"),
    )
    + _acls(
        "standardprivileges",
        ("list-accts", "List Accounts"),
        ("show-bandwidth", "View Account Bandwidth Usage"),
        ("create-acct", "Create Accounts"),
        ("kill-acct", "Terminate Accounts"),
        ("suspend-acct", "Suspend/Unsuspend Accounts"),
        ("upgrade-account", "Upgrade/Downgrade Accounts"),
        ("ssl", "SSL Site Management", "d"),
        ("ssl-buy", "Purchase SSL Certificates"),
        ("ssl-gencrt", "Generate SSL Certificates"),
        ("edit-mx", "Edit MX Entries"),
        ("passwd", "Change Passwords", "dw"),
        ("file-restore", "Restore Files"),
        ("create-dns", "Add DNS Zones", "d"),
        ("kill-dns", "Remove DNS Zones", "d"),
        ("park-dns", "Park DNS Zones"),
        ("edit-dns", "Edit DNS Zones"),
        ("add-pkg", "Add/Remove Packages"),
        ("edit-pkg", "Edit Packages"),
        ("thirdparty", "Manage Third-Party Services"),
        ("mailcheck", "Troubleshoot Mail Delivery"),
        ("news", "Manage cPanel News"),
        ("assign-root-account-enhancements", "Assign Root Account Enhancements"),
    )
    + _acls(
        "packageprivileges",
        ("allow-shell", "Allow Creation of Packages with Shell Access"),
        ("viewglobalpackages", "View Root-Owned Packages"),
        ("allow-addoncreate", "Allow Creation of Packages with Addon Domains"),
        ("allow-parkedcreate", "Allow Creation of Packages with Parked Domains"),
        ("add-pkg-ip", "Allow Creation of Packages with a Dedicated IP"),
        ("add-pkg-shell", "Allow Creation of Packages with Shell Access"),
        ("allow-unlimited-pkgs", "Allow Creation of Packages with Unlimited Features"),
        ("allow-emaillimits-pkgs", "Allow Creation of Packages with Email Limits"),
        ("allow-unlimited-disk-pkgs", "Allow Creation of Packages with Unlimited Disk Space"),
        ("allow-unlimited-bw-pkgs", "Allow Creation of Packages with Unlimited Bandwidth"),
    )
    + _acls(
        "globalprivileges",
        ("status", "View Server Status", "d"),
        ("stats", "View Server Information", "d"),
        ("restart", "Restart Services", "d"),
        ("resftp", "Resync FTP Passwords"),
    )
    + _acls(
        "superprivileges",
        ("edit-account", "Modify Accounts"),
        ("limit-bandwidth", "Bandwidth Limits"),
        ("quota", "Quota Modification"),
        ("demo-setup", "Demo Mode Setup"),
        ("rearrange-accts", "Rearrange Accounts"),
        ("clustering", "Clustering", "d"),
        ("locale-edit", "Edit Locales"),
    )
    + _acls("rootaccess", (ALL, "Everything", "d"))
)

BY_NAME: dict[str, Acl] = {acl.name: acl for acl in CATALOGUE}
NAMES: frozenset[str] = frozenset(BY_NAME)
# Older releases and clients still spell it this way.
ALIASES: dict[str, str] = {"onlyselfandglobalpkgs": "viewglobalpackages"}
DEFAULT_RESELLER_ACLS: tuple[str, ...] = tuple(a.name for a in CATALOGUE if a.default)


def canonical(name: str) -> str | None:
    """The catalogue name for `name`, or None when it is not a privilege at all."""
    name = ALIASES.get(name, name)
    return name if name in NAMES else None


def holds(held: Iterable[str], wanted: str) -> bool:
    held_set = held if isinstance(held, frozenset | set) else frozenset(held)
    return ALL in held_set or wanted in held_set


def ordered(names: Iterable[str]) -> list[str]:
    """Privilege names in catalogue order (unknown names, e.g. third-party ones, last)."""
    position = {acl.name: i for i, acl in enumerate(CATALOGUE)}
    return sorted(set(names), key=lambda n: (position.get(n, len(position)), n))
