"""Settings, declared as data: name, environment variable, default and help.

The CLI options, the README's configuration table and `docs/configuration.md` are written from
this one table (a test checks that every setting is documented).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gatehouse.numerals import digits


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


# The names of gatehouse.passwords.PROFILES (config imports nothing of gatehouse's).
PASSWORD_HASHING = ("rfc9106", "owasp")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        "GATEHOUSE_DATA_DIR",
        "./var",
        "Where the SQLite store, the TLS certificate and the root password file live.",
    ),
    Setting(
        "database_url",
        "GATEHOUSE_DATABASE_URL",
        "sqlite:///<data dir>/gatehouse.db",
        "The store: SQLite by default, or postgresql://USER:PASS@HOST/DB for several nodes.",
    ),
    Setting(
        "bind",
        "GATEHOUSE_BIND",
        "127.0.0.1",
        "Address to listen on (`::` for every IPv4 and IPv6 address).",
    ),
    Setting("http_port", "GATEHOUSE_HTTP_PORT", "2086", "Plain-HTTP WHM port (0 disables it)."),
    Setting("https_port", "GATEHOUSE_HTTPS_PORT", "2087", "HTTPS WHM port (0 disables it)."),
    Setting(
        "tls_cert",
        "GATEHOUSE_TLS_CERT",
        "<data dir>/tls/cert.pem",
        "PEM certificate for HTTPS; a self-signed one is made on first start if absent.",
    ),
    Setting("tls_key", "GATEHOUSE_TLS_KEY", "<data dir>/tls/key.pem", "PEM private key for HTTPS."),
    Setting(
        "secret_key",
        "GATEHOUSE_SECRET_KEY",
        "<data dir>/secret.key",
        "urlsafe base64 of 32 bytes: the AES-256-GCM key for Remote Access Keys at rest. "
        "Every node sharing a store needs the same one; else a 0600 file is made.",
    ),
    Setting(
        "max_body",
        "GATEHOUSE_MAX_BODY",
        str(4 * 1024 * 1024),
        "Largest request body accepted, in bytes (PEM bundles need about 1 MB).",
    ),
    Setting(
        "max_cluster_body",
        "GATEHOUSE_MAX_CLUSTER_BODY",
        str(64 * 1024 * 1024),
        "Largest request body a DNS cluster peer may send to /scripts2/, in bytes, read only "
        "once the peer has authenticated with the clustering privilege (a cPanel synczones "
        "batch carries up to 512 zones).",
    ),
    Setting(
        "max_query",
        "GATEHOUSE_MAX_QUERY",
        str(60 * 1024),
        "Largest query string accepted, in bytes (clients send certificates in a GET). "
        "The HTTP layer refuses any request target over 64 KiB whatever this says: larger "
        "data goes in a POST body.",
    ),
    Setting(
        "hooks_dir",
        "GATEHOUSE_HOOKS_DIR",
        "<data dir>/hooks",
        "Where the account life-cycle hooks live (docs/hooks.md).",
    ),
    Setting(
        "hook_timeout",
        "GATEHOUSE_HOOK_TIMEOUT",
        "30",
        "Seconds a hook may run before it is killed (a late before-hook refuses the call).",
    ),
    Setting(
        "session_idle_timeout",
        "GATEHOUSE_SESSION_IDLE_TIMEOUT",
        "900",
        "Seconds of inactivity after which a browser session (the WHM pages, `cpsess` URLs) ends.",
    ),
    Setting(
        "audit_retention_days",
        "GATEHOUSE_AUDIT_RETENTION_DAYS",
        "90",
        "Days the audit trail is kept; older rows are purged every hour by the server and by "
        "`gatehouse audit purge`. 0 keeps them for ever.",
    ),
    Setting(
        "token_max_lifetime_days",
        "GATEHOUSE_TOKEN_MAX_LIFETIME_DAYS",
        "0",
        "Policy: a new API token (WHM or cPanel) expires at most this many days after it is "
        "made; one asked for without an expiry, or a later one, gets this limit (docs/"
        "governance.md). 0: no limit.",
    ),
    Setting(
        "token_expire_unused_days",
        "GATEHOUSE_TOKEN_EXPIRE_UNUSED_DAYS",
        "0",
        "Policy: tokens not used for this many days (never used: since they were made) are "
        "expired by the server's hourly pass, each audited. 0 (the default): never.",
    ),
    Setting(
        "cphulk_trusted",
        "GATEHOUSE_CPHULK_TRUSTED",
        "",
        "Comma-separated addresses, CIDR blocks or ranges that cPHulk never blocks nor counts "
        "(a provider's management addresses), beside its white list; requests from this "
        "server itself (loopback, GATEHOUSE_IPS) are never blocked anyway (docs/security.md).",
    ),
    Setting(
        "trusted_proxies",
        "GATEHOUSE_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or CIDR blocks of the reverse proxies or load balancers in "
        "front of gatehouse: only a request arriving from one of them has its client address "
        "taken from X-Forwarded-For (docs/deployment.md). Empty: the header is never read. "
        "Set it for a proxy on the same host, or cPHulk takes every client as local.",
    ),
    Setting(
        "nameservers",
        "GATEHOUSE_NAMESERVERS",
        "ns1.<hostname>,ns2.<hostname>",
        "Comma-separated nameservers written as NS records in new DNS zones (docs/dns.md).",
    ),
    Setting(
        "hostname",
        "GATEHOUSE_HOSTNAME",
        "<this machine's fully qualified name>",
        "The server's host name, as `gethostname` reports it.",
    ),
    Setting(
        "ips",
        "GATEHOUSE_IPS",
        "<the accounts' address>",
        "Comma-separated IP addresses this server has, the main one first, each optionally "
        "with a prefix length (`192.0.2.10/24`): what `listips` lists and `setsiteip` may "
        "give an account. Default: the address accounts get (the bind address, or the "
        "machine's outgoing one when it listens on every address).",
    ),
    Setting(
        "cpanel_http_port",
        "GATEHOUSE_CPANEL_HTTP_PORT",
        "2082",
        "Plain-HTTP cPanel port: UAPI and API 2 for account holders (0 disables it).",
    ),
    Setting(
        "cpanel_https_port",
        "GATEHOUSE_CPANEL_HTTPS_PORT",
        "2083",
        "HTTPS cPanel port (0 disables it).",
    ),
    Setting(
        "dns_port",
        "GATEHOUSE_DNS_PORT",
        "0",
        "Port of the built-in authoritative nameserver, UDP and TCP (0: not started).",
    ),
    Setting(
        "dns_bind",
        "GATEHOUSE_DNS_BIND",
        "127.0.0.1",
        "Address the built-in nameserver listens on.",
    ),
    Setting(
        "zone_dir",
        "GATEHOUSE_ZONE_DIR",
        "<data dir>/zones",
        "Where every zone is written as `<zone>.db` (RFC 1035) after each change, with "
        "`named.conf.zones`, an include listing them, for BIND, PowerDNS, Knot or NSD.",
    ),
    Setting(
        "zone_reload_command",
        "GATEHOUSE_ZONE_RELOAD_COMMAND",
        "(none)",
        "Run after a zone file changes, `{zone}` and `{file}` filled in, e.g. "
        "`rndc reload {zone}` or `pdns_control bind-reload-now {zone}` (no shell).",
    ),
    Setting(
        "zone_reconfig_command",
        "GATEHOUSE_ZONE_RECONFIG_COMMAND",
        "(none)",
        "Run after a zone is added or removed (the include changed), e.g. `rndc reconfig` "
        "or `pdns_control rediscover` (no shell).",
    ),
    Setting(
        "zone_command_timeout",
        "GATEHOUSE_ZONE_COMMAND_TIMEOUT",
        "10",
        "Seconds a reload or reconfig command may run before it is killed.",
    ),
    Setting(
        "ssl_dir",
        "GATEHOUSE_SSL_DIR",
        "<data dir>/ssl",
        "Where installed certificates are written for a web server (docs/ssl.md): "
        "`<domain>.crt` (certificate and chain), `<domain>.key` (mode 0600), and the includes "
        "`nginx.conf` and `apache.conf` listing them.",
    ),
    Setting(
        "ssl_reload_command",
        "GATEHOUSE_SSL_RELOAD_COMMAND",
        "(none)",
        "Run in the background after the certificate files change, e.g. `nginx -s reload` or "
        "`apachectl graceful` (no shell); a failure is logged, never the caller's.",
    ),
    # AutoSSL (docs/ssl.md#autossl): certificates from an ACME CA for every hosted domain.
    Setting(
        "autossl_directory",
        "GATEHOUSE_AUTOSSL_DIRECTORY",
        "(none: AutoSSL off)",
        "The ACME directory URL AutoSSL orders certificates from, e.g. "
        "`https://acme-v02.api.letsencrypt.org/directory`; unset, AutoSSL does not run.",
    ),
    Setting(
        "autossl_ca_bundle",
        "GATEHOUSE_AUTOSSL_CA_BUNDLE",
        "(the system's CAs)",
        "A PEM file of the CA(s) to trust for the ACME directory's HTTPS (a private or test CA).",
    ),
    Setting(
        "autossl_email",
        "GATEHOUSE_AUTOSSL_EMAIL",
        "(none)",
        "The contact address registered with the ACME account.",
    ),
    Setting(
        "autossl_eab_kid",
        "GATEHOUSE_AUTOSSL_EAB_KID",
        "(none)",
        "External Account Binding key id, for a CA that requires one (with the HMAC key).",
    ),
    Setting(
        "autossl_eab_hmac_key",
        "GATEHOUSE_AUTOSSL_EAB_HMAC_KEY",
        "(none)",
        "External Account Binding HMAC key (base64url), used once to register the account.",
    ),
    Setting(
        "autossl_wildcard",
        "GATEHOUSE_AUTOSSL_WILDCARD",
        "0",
        "1 adds `*.<domain>` to the certificate AutoSSL orders for each account's main domain "
        "(validated by DNS-01 like the rest).",
    ),
    Setting(
        "autossl_interval",
        "GATEHOUSE_AUTOSSL_INTERVAL",
        "86400",
        "Seconds between scheduled AutoSSL checks of every account, counted from the last "
        "completed one (kept in the store: a restart does not start one at once).",
    ),
    Setting(
        "autossl_renew_days",
        "GATEHOUSE_AUTOSSL_RENEW_DAYS",
        "30",
        "A certificate expiring within this many days is replaced.",
    ),
    Setting(
        "autossl_retry",
        "GATEHOUSE_AUTOSSL_RETRY",
        "3600",
        "Seconds a failed domain waits before the scheduled check tries it again, doubled "
        "after each failure in a row (at most a day); a check asked for tries at once.",
    ),
    Setting(
        "autossl_dns_wait",
        "GATEHOUSE_AUTOSSL_DNS_WAIT",
        "5",
        "Seconds between committing the DNS-01 challenge records and asking the CA to "
        "validate them (time for zone files, reloads and cluster peers).",
    ),
    # TLS on the HTTPS ports (docs/security.md#tls).
    Setting(
        "tls_min_version",
        "GATEHOUSE_TLS_MIN_VERSION",
        "1.2",
        "Oldest TLS version the HTTPS ports accept: `1.2` (TLS 1.2 and 1.3, as cPanel serves) "
        "or `1.3`. Cipher suites are rustls's, all AEAD with forward secrecy (docs/security.md).",
    ),
    Setting(
        "password_hashing",
        "GATEHOUSE_PASSWORD_HASHING",
        "rfc9106",
        "Argon2id's cost for new password hashes: `rfc9106` (argon2-cffi's default, RFC 9106's "
        "low-memory choice: 64 MiB, 3 passes, 4 lanes; about 160 ms of CPU) or `owasp` "
        "(OWASP's minimum: 19 MiB, 2 passes, 1 lane; about 20 ms). Every stored hash verifies "
        "whichever is set; a password keeps its cost until it is next set "
        "([docs/security.md](docs/security.md#passwords)).",
    ),
    Setting(
        "http2",
        "GATEHOUSE_HTTP2",
        "0",
        "1 offers HTTP/2 (ALPN `h2`) beside HTTP/1.1 on the HTTPS ports; by default they speak "
        "HTTP/1.1 only, as cPanel's service does.",
    ),
    # Stalled connections (docs/security.md): every wait on a client is bounded, and no one
    # address may hold the slots everyone else needs.
    Setting(
        "workers",
        "GATEHOUSE_WORKERS",
        "0",
        "Processes serving the HTTP ports (`gatehouse serve --workers`); 0 means one per core "
        "the server may run on. The nameserver, the zone files and the housekeeping run in "
        "the first.",
    ),
    Setting(
        "header_timeout",
        "GATEHOUSE_HEADER_TIMEOUT",
        "10",
        "Seconds a client has to send a request's headers, counted from the connection (or "
        "the previous answer on a kept-alive one); then the connection is closed.",
    ),
    Setting(
        "body_timeout",
        "GATEHOUSE_BODY_TIMEOUT",
        "30",
        "Seconds a client has to send a whole request body once the headers are in; then "
        "the request is answered 408 and the connection closed.",
    ),
    Setting(
        "max_connections_per_address",
        "GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS",
        "64",
        "Open connections one client address may have on the HTTP ports together; beyond "
        "them its most idle connections are closed within half a second (Linux). A trusted "
        "proxy's (GATEHOUSE_TRUSTED_PROXIES) are not capped.",
    ),
    Setting(
        "max_requests_per_address",
        "GATEHOUSE_MAX_REQUESTS_PER_ADDRESS",
        "16",
        "Requests one client address may have in progress at once on the HTTP ports "
        "together; a further one is answered 503 with Retry-After.",
    ),
    Setting(
        "max_connections",
        "GATEHOUSE_MAX_CONNECTIONS",
        "2048",
        "Open connections per HTTP port; further ones wait in the listen queue.",
    ),
    Setting(
        "listen_backlog",
        "GATEHOUSE_LISTEN_BACKLOG",
        "1024",
        "Length of the listen queue of every HTTP port and of DNS over TCP.",
    ),
    Setting(
        "dns_tcp_idle_timeout",
        "GATEHOUSE_DNS_TCP_IDLE_TIMEOUT",
        "10",
        "Seconds a DNS-over-TCP connection may wait for its next query (or the rest of one).",
    ),
    Setting(
        "dns_tcp_max_connections",
        "GATEHOUSE_DNS_TCP_MAX_CONNECTIONS",
        "256",
        "Open DNS-over-TCP connections; when full, a new one takes the slot of an idle one "
        "from the address holding the most.",
    ),
    Setting(
        "dns_tcp_max_per_address",
        "GATEHOUSE_DNS_TCP_MAX_PER_ADDRESS",
        "16",
        "Open DNS-over-TCP connections one client address may have; a further one is closed.",
    ),
    Setting(
        "allow_reverse_zones",
        "GATEHOUSE_ALLOW_REVERSE_ZONES",
        "0",
        "1 lets root add reverse DNS zones (under `in-addr.arpa` and `ip6.arpa`) with adddns; "
        "no account's domain, subdomain or Dynamic DNS name can be one.",
    ),
    # Token notices (docs/governance.md#4-notices): by webhook and/or e-mail.
    Setting(
        "notice_webhook_url",
        "GATEHOUSE_NOTICE_WEBHOOK_URL",
        "(none: no webhook)",
        "An http:// or https:// URL every token notice is POSTed to as JSON, signed with "
        "HMAC-SHA256 in the `Gatehouse-Signature` header (docs/governance.md).",
    ),
    Setting(
        "notice_webhook_secret",
        "GATEHOUSE_NOTICE_WEBHOOK_SECRET",
        "(none)",
        "The webhook's signing key (at least 16 characters), if not the one kept encrypted in "
        "the store by `gatehouse notices set-secret`, which every node shares; never logged.",
    ),
    Setting(
        "notice_smtp_host",
        "GATEHOUSE_NOTICE_SMTP_HOST",
        "(none: no e-mail)",
        "The SMTP server token notices are mailed through.",
    ),
    Setting(
        "notice_smtp_port",
        "GATEHOUSE_NOTICE_SMTP_PORT",
        "587 (465 with ssl, 25 with none)",
        "The SMTP server's port.",
    ),
    Setting(
        "notice_smtp_security",
        "GATEHOUSE_NOTICE_SMTP_SECURITY",
        "starttls",
        "`starttls` (required, the certificate checked), `ssl` (TLS from the start) or "
        "`none` (a relay on this machine; no password then).",
    ),
    Setting(
        "notice_smtp_user",
        "GATEHOUSE_NOTICE_SMTP_USER",
        "(none: no AUTH)",
        "The SMTP AUTH user name, with the password.",
    ),
    Setting(
        "notice_smtp_password",
        "GATEHOUSE_NOTICE_SMTP_PASSWORD",
        "(none)",
        "The SMTP AUTH password: sent only over TLS, never logged nor stored.",
    ),
    Setting(
        "notice_smtp_ca_file",
        "GATEHOUSE_NOTICE_SMTP_CA_FILE",
        "(the system's CAs)",
        "A PEM file of the CA(s) to trust for the SMTP server's certificate.",
    ),
    Setting(
        "notice_email_from",
        "GATEHOUSE_NOTICE_EMAIL_FROM",
        "gatehouse@<hostname>",
        "The From address of notice e-mails.",
    ),
    Setting(
        "notice_email_to",
        "GATEHOUSE_NOTICE_EMAIL_TO",
        "(none)",
        "Comma-separated operator addresses that get every token notice by e-mail.",
    ),
    Setting(
        "notice_email_owners",
        "GATEHOUSE_NOTICE_EMAIL_OWNERS",
        "1",
        "1: a notice is also mailed to the token's owner at the account's contact e-mail, "
        "when it has one; 0: to the operator addresses only.",
    ),
    Setting(
        "notice_expiry_days",
        "GATEHOUSE_NOTICE_EXPIRY_DAYS",
        "30,7,1",
        "Days before a token expires at which a notice goes (comma-separated); `0`: none.",
    ),
    Setting(
        "notice_new_address",
        "GATEHOUSE_NOTICE_NEW_ADDRESS",
        "1",
        "1: a notice when a token is used from an address it was never used from; 0: none.",
    ),
    Setting(
        "notice_unused_days",
        "GATEHOUSE_NOTICE_UNUSED_DAYS",
        "0",
        "A notice when a token has gone unused this many days (never used: since it was "
        "made), once per spell of disuse; 0 (the default): none.",
    ),
)


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("./var")
    database_url: str | None = None
    bind: str = "127.0.0.1"
    http_port: int = 2086
    https_port: int = 2087
    tls_cert: Path | None = None
    tls_key: Path | None = None
    secret_key: str | None = None
    hooks_dir: Path | None = None
    hook_timeout: float = 30.0
    max_body: int = 4 * 1024 * 1024
    max_cluster_body: int = 64 * 1024 * 1024
    max_query: int = 60 * 1024
    session_idle_timeout: int = 900
    cphulk_trusted: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    audit_retention_days: int = 90
    token_max_lifetime_days: int = 0
    token_expire_unused_days: int = 0
    tls_min_version: str = "1.2"
    http2: bool = False
    password_hashing: str = "rfc9106"
    nameservers: str | None = None
    hostname: str | None = None
    ips: str | None = None
    cpanel_http_port: int = 2082
    cpanel_https_port: int = 2083
    dns_port: int = 0
    dns_bind: str = "127.0.0.1"
    zone_dir: Path | None = None
    zone_reload_command: str | None = None
    zone_reconfig_command: str | None = None
    zone_command_timeout: float = 10.0
    ssl_dir: Path | None = None
    ssl_reload_command: str | None = None
    workers: int = 0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections_per_address: int = 64
    max_requests_per_address: int = 16
    max_connections: int = 2048
    listen_backlog: int = 1024
    dns_tcp_idle_timeout: float = 10.0
    dns_tcp_max_connections: int = 256
    dns_tcp_max_per_address: int = 16
    allow_reverse_zones: bool = False
    autossl_directory: str | None = None
    autossl_ca_bundle: Path | None = None
    autossl_email: str | None = None
    autossl_eab_kid: str | None = None
    autossl_eab_hmac_key: str | None = None
    autossl_wildcard: bool = False
    autossl_interval: int = 86400
    autossl_renew_days: int = 30
    autossl_retry: int = 3600
    autossl_dns_wait: float = 5.0
    notice_webhook_url: str | None = None
    notice_webhook_secret: str | None = field(default=None, repr=False)
    notice_smtp_host: str | None = None
    notice_smtp_port: int = 0
    notice_smtp_security: str = "starttls"
    notice_smtp_user: str | None = None
    notice_smtp_password: str | None = field(default=None, repr=False)
    notice_smtp_ca_file: Path | None = None
    notice_email_from: str | None = None
    notice_email_to: tuple[str, ...] = ()
    notice_email_owners: bool = True
    notice_expiry_days: tuple[int, ...] = (30, 7, 1)
    notice_new_address: bool = True
    notice_unused_days: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        # The embedded default: SQLite in the data directory.
        return self.database_url or f"sqlite:///{(self.data_dir / 'gatehouse.db').resolve()}"

    @property
    def hooks_path(self) -> Path:
        return self.hooks_dir or self.data_dir / "hooks"

    @property
    def database_display(self) -> str:
        """The store URL with any password masked, for messages and logs."""
        from sqlalchemy.engine import make_url

        return make_url(self.resolved_database_url).render_as_string(hide_password=True)

    @property
    def zone_path(self) -> Path:
        return self.zone_dir or self.data_dir / "zones"

    @property
    def ssl_path(self) -> Path:
        return self.ssl_dir or self.data_dir / "ssl"

    @property
    def cert_path(self) -> Path:
        return self.tls_cert or self.data_dir / "tls" / "cert.pem"

    @property
    def key_path(self) -> Path:
        return self.tls_key or self.data_dir / "tls" / "key.pem"

    @property
    def root_password_file(self) -> Path:
        return self.data_dir / "root-password"

    @property
    def trusted_addresses(self) -> tuple[str, ...]:
        """GATEHOUSE_CPHULK_TRUSTED, split."""
        parts = (self.cphulk_trusted or "").split(",")
        return tuple(part.strip() for part in parts if part.strip())

    @property
    def nameserver_list(self) -> list[str]:
        """The NS names for new zones: the setting, else ns1/ns2 under this host's name."""
        if self.nameservers:
            names = [n.strip().lower().rstrip(".") for n in self.nameservers.split(",")]
            return [n for n in names if n]
        import socket

        host = (socket.getfqdn() or socket.gethostname() or "localhost").lower().rstrip(".")
        return [f"ns1.{host}", f"ns2.{host}"]

    @property
    def smtp_port(self) -> int:
        """GATEHOUSE_NOTICE_SMTP_PORT, or the usual port of the chosen security."""
        return self.notice_smtp_port or _SMTP_PORTS[self.notice_smtp_security]

    @property
    def server_hostname(self) -> str:
        """The setting, else this machine's fully qualified name."""
        if self.hostname and self.hostname.strip():
            return self.hostname.strip().lower().rstrip(".")
        import socket

        return (socket.getfqdn() or socket.gethostname() or "localhost").lower().rstrip(".")


class SettingError(ValueError):
    """A setting's value that cannot be used; the message names the setting."""


def from_environment(**overrides: object) -> Config:
    """Environment first, then explicit overrides (CLI options) where they are not None.
    SettingError, naming the setting, for a value of the wrong kind."""
    envs = {setting.name: setting.env for setting in SETTINGS}
    try:
        return _typed(overrides)
    except SettingError:
        raise
    except ValueError as exc:  # a number that is not one: say which setting
        key = getattr(exc, "setting", "")
        raise SettingError(f"{envs.get(key, key)}: {exc}") from None


def _typed(overrides: dict[str, object]) -> Config:
    values: dict[str, object] = {}
    for setting in SETTINGS:
        raw = os.environ.get(setting.env)
        if raw:
            values[setting.name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    typed: dict[str, object] = {}
    for key, value in values.items():
        if key in (
            "data_dir",
            "tls_cert",
            "tls_key",
            "hooks_dir",
            "zone_dir",
            "ssl_dir",
            "autossl_ca_bundle",
        ):
            typed[key] = Path(str(value))
        elif key in (
            "http_port",
            "https_port",
            "max_body",
            "max_cluster_body",
            "max_query",
            "session_idle_timeout",
            "audit_retention_days",
            "token_max_lifetime_days",
            "token_expire_unused_days",
            "cpanel_http_port",
            "cpanel_https_port",
            "dns_port",
            "max_connections_per_address",
            "max_requests_per_address",
            "max_connections",
            "listen_backlog",
            "dns_tcp_max_connections",
            "dns_tcp_max_per_address",
            "autossl_interval",
            "autossl_renew_days",
            "autossl_retry",
            "workers",
        ):
            typed[key] = _number(key, value, int)
        elif key in (
            "hook_timeout",
            "zone_command_timeout",
            "header_timeout",
            "body_timeout",
            "dns_tcp_idle_timeout",
            "autossl_dns_wait",
        ):
            typed[key] = _number(key, value, float)
        elif key == "http2":
            typed[key] = str(value).strip().lower() in ("1", "true", "yes", "on")
        elif key == "tls_min_version":
            text = str(value).strip().removeprefix("TLSv").removeprefix("tls")
            if text not in ("1.2", "1.3"):
                raise SettingError(f"GATEHOUSE_TLS_MIN_VERSION must be 1.2 or 1.3, not {value!r}")
            typed[key] = text
        elif key == "password_hashing":
            text = str(value).strip().lower()
            if text not in PASSWORD_HASHING:
                raise SettingError(
                    f"GATEHOUSE_PASSWORD_HASHING must be one of {', '.join(PASSWORD_HASHING)}, "
                    f"not {value!r}"
                )
            typed[key] = text
        elif key == "trusted_proxies":
            typed[key] = _proxies(value)
        elif key in ("allow_reverse_zones", "autossl_wildcard"):
            typed[key] = str(value).strip().lower() in ("1", "true", "yes", "on")
        elif key.startswith("notice_"):
            typed[key] = _notice(key, value)
        else:
            typed[key] = value
    config = Config(**typed)  # type: ignore[arg-type]
    _check_notices(config)
    return config


def _number(key: str, value: object, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(str(value).strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        error = ValueError(f"“{value}” is not {what}.")
        error.setting = key  # type: ignore[attr-defined]
        raise error from None


def _proxies(value: object) -> tuple[str, ...]:
    """GATEHOUSE_TRUSTED_PROXIES as networks in cPanel's normal form; a wrong entry stops the
    program with its name rather than trusting less (or more) than the operator wrote."""
    if isinstance(value, tuple):
        return value
    from gatehouse import ipnets

    entries = [part.strip() for part in str(value).split(",") if part.strip()]
    try:
        return tuple(ipnets.normalise(entries))
    except ipnets.InvalidIpEntry as exc:
        raise SettingError(
            f"GATEHOUSE_TRUSTED_PROXIES: {exc.entry!r} is not an IP address or CIDR block "
            "(host bits zero)"
        ) from None


_SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _notice(key: str, value: object) -> object:
    """One GATEHOUSE_NOTICE_* value, typed; SettingError naming it when it cannot be used."""
    env = f"GATEHOUSE_{key.upper()}"
    text = str(value).strip()
    if key in ("notice_smtp_port", "notice_unused_days"):
        number = int(_number(key, text, int))
        top = 65535 if key == "notice_smtp_port" else 36500
        if not 0 <= number <= top:
            raise SettingError(f"{env} must be from 0 to {top}, not {text!r}")
        return number
    if key in ("notice_email_owners", "notice_new_address"):
        return text.lower() in ("1", "true", "yes", "on")
    if key == "notice_smtp_ca_file":
        return Path(text)
    if key == "notice_expiry_days":
        if text.lower() in ("0", "none", "off"):
            return ()
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not all(digits(p) and 0 < int(p) <= 3650 for p in parts):
            raise SettingError(
                f"{env} must be whole numbers of days from 1 to 3650, comma-separated "
                f"(or 0 for none), not {text!r}"
            )
        return tuple(sorted({int(p) for p in parts}, reverse=True))
    if key == "notice_smtp_security":
        if text.lower() not in _SMTP_PORTS:
            raise SettingError(f"{env} must be starttls, ssl or none, not {text!r}")
        return text.lower()
    if key == "notice_email_to":
        addresses = tuple(part.strip() for part in text.split(",") if part.strip())
        for address in addresses:
            _check_address(env, address)
        return addresses
    if key == "notice_email_from":
        _check_address(env, text)
    if key == "notice_webhook_url":
        from urllib.parse import urlsplit

        url = urlsplit(text)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise SettingError(f"{env} must be an http:// or https:// URL, not {text!r}")
    return text


def _check_address(env: str, address: str) -> None:
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in "<>,;" for c in address):
        raise SettingError(f"{env}: {address!r} is not an e-mail address")


def _check_notices(config: Config) -> None:
    """Settings that make sense only together."""
    secret = config.notice_webhook_secret
    if secret is not None and len(secret) < 16:
        raise SettingError("GATEHOUSE_NOTICE_WEBHOOK_SECRET must be at least 16 characters")
    if config.notice_smtp_password and config.notice_smtp_security == "none":
        raise SettingError(
            "GATEHOUSE_NOTICE_SMTP_PASSWORD is sent only over TLS: set "
            "GATEHOUSE_NOTICE_SMTP_SECURITY to starttls or ssl"
        )
    if bool(config.notice_smtp_user) != bool(config.notice_smtp_password):
        raise SettingError(
            "GATEHOUSE_NOTICE_SMTP_USER and GATEHOUSE_NOTICE_SMTP_PASSWORD go together"
        )
