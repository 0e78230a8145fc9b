"""UAPI `Variables::get_user_information`, `get_server_information` and
`get_session_information`.

`get_user_information`: the account's configuration, as cPanel's
Cpanel/API/Variables.pm answers it — the account's cpuser file (`%Cpanel::CPDATA`) and its
password-file entry (`%Cpanel::USERDATA`), keys renamed by USER_INFO_TRANSFORMS, DNS, `pass`
and `name` left out, every other key lower-cased, `MXCHECK-<domain>` keys gathered into the
`mxcheck` hash — plus `cpanel_root_directory`.

Clients call it first, as a "who am I" (connection tests, dashboards). gatehouse answers the
cpuser keys it holds true facts for (docs/cpanel.md lists them); it keeps no feature lists
(`feature-*` keys), no mail settings and no notification preferences, so those keys are not
there — a `name` asking for one is refused as cPanel refuses a key the account's file lacks.
Values have cPanel's types: what comes from the cpuser file is text (`"unlimited"`, `"10"`,
the start date), what cPanel computes is a number (`uid`, `gid`, an unlimited
`bandwidth_limit` of 0).

`get_server_information`: Variables.pm's SERVER_INFO_RETURNS, the server's cpanel.config
(`%Cpanel::CONF`) under public names. gatehouse has no cpanel.config: it answers the names it
holds a true value for (SERVER_KNOWN); every other name of cPanel's table is still a valid
`name`, answered `null` — what cPanel answers for a setting its cpanel.config lacks — and left
out of the whole answer (docs/cpanel.md lists them).

`get_session_information`: `host`, the request's Host without its port (Cpanel.pm splits
HTTP_HOST at its first colon); from the command line (`gatehouse uapi`, cPanel's `uapi`, where
SERVER_SOFTWARE is not cpsrvd's) `null`, with Variables.pm's warning.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import UapiResult, uapi
from gatehouse.domain import (
    ips,
    mail_exchangers,
    packages,
    parked_domains,
    password_policy,
    settings,
    ssl_requests,
    ssl_storage,
    users,
)
from gatehouse.domain.spf_records import list_and_quoted
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter

MODULE = "Variables"
CPANEL_ROOT = "/usr/local/cpanel"  # $Cpanel::CONF{root}
MIB = 1024 * 1024
BLOCKS_PER_MIB = 1024  # Cpanel::Quota::Constants: 1 KiB blocks
NOSHELL = "/usr/local/cpanel/bin/noshell"


def _list_or_quoted(names: list[str]) -> str:
    """cPanel's `[list_or_quoted,_1]`: “a”, “a” or “b”, “a”, “b”, or “c”."""
    quoted = [f"“{n}”" for n in names]
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + f", or {quoted[-1]}"


def _invalid_names(names: list[str], valid: list[str]) -> InvalidParameter:
    # Variables.pm _throw_invalid_param (the valid names in Perl's hash order there; sorted
    # here).
    return InvalidParameter(
        f"The name parameter has unknown value(s) {list_and_quoted(names)}. You must enter "
        f"one of the following values: {_list_or_quoted(sorted(valid))}"
    )


def bandwidth_limit(limits: dict[str, str]) -> str | int:
    # The cpuser file's BWLIMIT is in bytes; Cpanel.pm's initcp makes an unlimited one 0.
    value = limits.get("BWLIMIT", packages.UNLIMITED)
    if not value.isdigit() or int(value) == 0:
        return 0
    return str(int(value) * MIB)


def _disk_block_limit(limits: dict[str, str]) -> str:
    # Cpanel::Quota::Blocks writes the hard limit, in 1 KiB blocks; 0 is no limit.
    value = limits.get("QUOTA", packages.UNLIMITED)
    return str(int(value) * BLOCKS_PER_MIB) if value.isdigit() else "0"


def user_information(call: Call, account: User) -> dict[str, Any]:
    """The account's variables, after Variables.pm's transforms."""
    limits = packages.with_defaults(account.limits)
    uid = users.UID_BASE + account.id
    variables: dict[str, Any] = {
        # %Cpanel::CPDATA, as createacct writes the cpuser file (values are its text).
        "backup_enabled": "0",
        "bandwidth_limit": bandwidth_limit(limits),
        "cgi_enabled": "1" if limits.get("CGI") == "y" else "0",
        "contact_email": account.contact_email or "",
        "contact_email_2": "",
        "created": str(account.created_time),
        "dead_domains": [],
        "demo_mode": "0",
        "disk_block_limit": _disk_block_limit(limits),
        "domain": account.domain,
        # Cpanel.pm puts the main domain before the cpuser file's DOMAINS (its parked and
        # addon domains).
        "domains": [
            account.domain,
            *(p.name for p in parked_domains.of_user(call.conn, account.id)),
        ],
        "feature_list": limits.get("FEATURELIST", packages.DEFAULT_PACKAGE),
        "ip": account.ip or ips.main_ip(call.gatehouse.config),
        "legacy_backup_enabled": "0",
        "locale": limits.get("LANG", "en"),
        "mailbox_format": "maildir",
        "max_team_users": limits.get("MAX_TEAM_USERS", "7"),
        "maximum_addon_domains": limits.get("MAXADDON", "0"),
        "maximum_databases": limits.get("MAXSQL", packages.UNLIMITED),
        "maximum_defer_fail_percentage": limits.get("MAX_DEFER_FAIL_PERCENTAGE", "unlimited"),
        "maximum_email_account_disk_quota": limits.get("MAX_EMAILACCT_QUOTA", "unlimited"),
        "maximum_emails_per_hour": limits.get("MAX_EMAIL_PER_HOUR", "unlimited"),
        "maximum_ftp_accounts": limits.get("MAXFTP", packages.UNLIMITED),
        "maximum_mail_accounts": limits.get("MAXPOP", packages.UNLIMITED),
        "maximum_mailing_lists": limits.get("MAXLST", packages.UNLIMITED),
        "maximum_parked_domains": limits.get("MAXPARK", "0"),
        "maximum_passenger_apps": "4",
        "maximum_subdomains": limits.get("MAXSUB", packages.UNLIMITED),
        "owner": account.owner or "root",
        "plan": account.plan or "undefined",
        "ssl_default_key_type": ssl_storage.default_key_type(call.conn, account),
        "theme": limits.get("CPMOD", "jupiter"),
        "user": account.username,
        # %Cpanel::USERDATA: the password-file entry (gatehouse makes no system user: the
        # uid WHM's listaccts reports, the home cPanel would make, the package's shell).
        "gid": uid,
        "home": f"/home/{account.username}",
        "shell": "/bin/bash" if limits.get("HASSHELL") == "y" else NOSHELL,
        "uid": uid,
        "cpanel_root_directory": CPANEL_ROOT,
    }
    mxcheck = mail_exchangers.stored_mxcheck(call.conn, account)
    if mxcheck is not None and account.domain:
        # MXCHECK-<domain> becomes mxcheck{<domain>}; an empty value reads as `local`.
        variables["mxcheck"] = {account.domain: mxcheck or "local"}
    return variables


def _build_results(
    variables: dict[str, Any], valid: list[str], wanted: list[str]
) -> dict[str, Any]:
    """Variables.pm _build_results: the names asked for (all when none), each of cPanel's
    table; a value gatehouse does not hold is cPanel's undefined (`null`)."""
    invalid = [n for n in wanted if n not in valid]
    if invalid:
        raise _invalid_names(invalid, valid)
    if wanted:
        return {n: variables.get(n) for n in wanted}
    return dict(variables)


# Variables.pm SERVER_INFO_RETURNS: the public names (cpanel.config's own in the comment).
SERVER_INFO_NAMES = [
    "default_theme",  # RS
    "email_filter_storage_directory",  # VFILTERDIR
    "allow_park_subdomain_on_hostname",  # allowparkhostnamedomainsubdomains
    "allow_remote_domains",
    "allow_unregistered_domains",
    "apache_port",
    "apache_ssl_port",
    "api_shell",
    "awstats_browser_update",
    "awstats_reverse_dns",
    "cpanel_root_directory",
    "database_prefix_required",  # database_prefix
    "display_cpanel_doclinks",
    "dnsadmin_app",
    "empty_trash_days",
    "enable_file_protect",
    "file_upload_maximum_bytes",
    "file_upload_must_leave_bytes",
    "file_usage",
    "ftp_server",
    "htaccess_check_recurse",
    "invite_sub",
    "ipv6_listen",
    "local_nameserver_type",
    "logout_redirect_url",
    "mailbox_storage_format",
    "mail_server",
    "minimum_password_strength",
    "minimum_password_strength_mysql",
    "mysql_host",
    "mysql_version",
    "php_maximum_execution_time",
    "php_memory_limit",
    "php_post_maximum_size",
    "php_system_default_version",
    "php_upload_maximum_filesize",
    "php_loader",
    "php_open_basedir_home",
    "phpmyadmin_disable_search_info_schema",
    "docroots_in_public_html_only",
    "require_ssl",
    "allow_reset_password",
    "allow_reset_password_for_subaccounts",
    "disable_analog",
    "skip_apache_clients_optimizer",
    "disable_awstats",
    "skip_mailbox_warnings_check",
    "disable_boxtrapper",
    "skip_bandwidth_limit_check",
    "disable_mailman",
    "disable_roundcube",
    "disable_spamassassin",
    "disable_spambox",
    "disable_webalizer",
    "ssl_default_key_type",
    "use_information_schema",
    "use_mail_for_mailman_url",
    "is_mod_userdir_enabled",
    "version",
]


def server_known(call: Call) -> dict[str, Any]:
    """The server settings gatehouse holds a true value for."""
    known: dict[str, Any] = {
        "cpanel_root_directory": CPANEL_ROOT,  # $Cpanel::CONF{root}
        # The theme createacct gives an account (the package's CPMOD default).
        "default_theme": packages.default_settings()["CPMOD"],
        # No FTP service runs: cpanel.config's computed `ftpserver` is then `disabled`.
        "ftp_server": "disabled",
        # The key type of an account's `system` default (Cpanel::SSL::DefaultKey's first).
        "ssl_default_key_type": ssl_requests.DEFAULT_KEY_TYPE,
    }
    # cpanel.config's minpwstrength (a line always there) and minpwstrength_mysql (when set),
    # as the file's text.
    strengths = password_policy.minimum_strengths(call.conn)
    known["minimum_password_strength"] = str(strengths["default"])
    mysql = settings.stored(call.conn, password_policy.SETTING_KEYS["mysql"])
    if mysql is not None:
        known["minimum_password_strength_mysql"] = mysql
    return known


@uapi(MODULE, "get_server_information", "The server's settings (cpanel.config) that "
      "gatehouse holds.", readonly=True)  # fmt: skip
def get_server_information(call: Call) -> dict[str, Any]:
    wanted = call.params.getlist("name")
    known = server_known(call)
    if not wanted:
        return known
    return _build_results(known, SERVER_INFO_NAMES, wanted)


NOT_WEB = "This API is only valid when called via a web interface."


@uapi(MODULE, "get_session_information", "The web session's variables (`host`).",
      readonly=True)  # fmt: skip
def get_session_information(call: Call) -> UapiResult:
    host = call.host.split(":", 1)[0] if call.host else None
    data = _build_results({"host": host}, ["host"], call.params.getlist("name"))
    # cPanel warns when SERVER_SOFTWARE is not cpsrvd's: its command line.
    warnings = [NOT_WEB] if call.principal.method == "local" else None
    return UapiResult(data=data, warnings=warnings)


@uapi(MODULE, "get_user_information", "The account's configuration (its cpuser data).",
      readonly=True)  # fmt: skip
def get_user_information(call: Call) -> dict[str, Any]:
    wanted = call.params.getlist("name")
    variables = user_information(call, call.caller_account())
    invalid = [n for n in wanted if n not in variables]
    if invalid:
        raise _invalid_names(invalid, list(variables))
    if wanted:
        return {n: variables[n] for n in wanted}
    return variables
