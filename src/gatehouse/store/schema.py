"""Tables. Changing one means a new Alembic revision under migrations/versions/."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Root, resellers and cPanel accounts. A reseller is an account with a privilege set
# (`reseller_acls` not null), as in cPanel; root always holds `all` whatever is stored.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("is_root", sa.Boolean, nullable=False, default=False),
    sa.Column("domain", sa.String(253), nullable=True, unique=True),
    sa.Column("owner", sa.String(64), nullable=False, default="root"),
    sa.Column("contact_email", sa.String(254), nullable=True),
    sa.Column("suspended", sa.Boolean, nullable=False, default=False),
    sa.Column("reseller_acls", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    # Added by migration 0004 (the account life cycle):
    sa.Column("plan", sa.String(64), nullable=True),  # the package; null for root
    sa.Column("limits", sa.JSON(none_as_null=True), nullable=True),  # the account's own values
    sa.Column("ip", sa.String(45), nullable=True),
    sa.Column("suspend_reason", sa.Text, nullable=True),
    sa.Column("suspend_time", sa.BigInteger, nullable=True),
    sa.Column("suspend_locked", sa.Boolean, nullable=False, default=False),  # disallowun
    sa.Column("suspended_by", sa.String(64), nullable=True),
    sa.Column("reseller_limits", sa.JSON(none_as_null=True), nullable=True),
    # Counting the accounts a caller lists, and a reseller's own (migration 0026).
    sa.Index("ix_users_owner_root", "owner", "is_root"),
)

# One row per token. Only the SHA-512 hex digest of the token is kept (cPanel's own
# at-rest format), so the secret cannot be recovered from the store.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("service", sa.String(16), nullable=False),  # whostmgr | cpanel
    # 50 characters and one trailing newline, as cPanel's `$` allows (migration 0031).
    sa.Column("name", sa.String(51), nullable=False),
    sa.Column("digest", sa.String(128), nullable=False, unique=True),
    sa.Column("acls", sa.JSON(none_as_null=True), nullable=True),  # null = full access
    sa.Column("whitelist_ips", sa.JSON(none_as_null=True), nullable=True),  # null = any address
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("last_used_time", sa.BigInteger, nullable=True),
    sa.Column("last_used_ip", sa.String(45), nullable=True),
    # Where the token is used, in its owner's words (a gatehouse addition, docs/governance.md).
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("last_used_agent", sa.String(255), nullable=True),  # its User-Agent at last use
    sa.Column("rate_limit", sa.Integer, nullable=True),  # requests per minute; null: none
    # The accounts, zones and record names the token may reach (domain/token_scope.py).
    sa.Column("scope", sa.JSON(none_as_null=True), nullable=True),
    sa.UniqueConstraint("user_id", "service", "name", name="uq_api_tokens_owner_service_name"),
)

# Browser and API sessions (`/cpsessNNNNNNNNNN/` plus a cookie). Only digests are kept.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("service", sa.String(16), nullable=False),  # whostmgrd | cpaneld
    sa.Column("security_token", sa.String(16), nullable=False),  # the digits of cpsessNNN
    sa.Column("login_digest", sa.String(64), nullable=True, unique=True),  # one-time URL
    sa.Column("cookie_digest", sa.String(64), nullable=True, unique=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("last_active", sa.BigInteger, nullable=False),
    sa.Column("origin", sa.String(32), nullable=False),
)

# A new token waiting for its one view after Save on the token pages (web/pages/pending.py):
# AES-GCM under the key ring, bound to its session; read and deleted in one statement, so
# exactly one request of any node shows it; gone with its session or after a few minutes.
pending_tokens = sa.Table(
    "pending_tokens",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("expires", sa.BigInteger, nullable=False, index=True),
)

# Named privilege sets saved with `saveacllist`, applied with `setacls acllist=NAME`.
acl_lists = sa.Table(
    "acl_lists",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("acls", sa.JSON, nullable=False),
)

# Every token change and every refused authentication. Never a secret.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.BigInteger, nullable=False, index=True),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("actor", sa.String(64), nullable=True, index=True),
    sa.Column("subject", sa.String(64), nullable=True),
    sa.Column("source_ip", sa.String(45), nullable=True),
    sa.Column("token_name", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(48), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    # Identical refusals in a row are kept as one row counting them (issue 18 §4).
    sa.Column("repeats", sa.Integer, nullable=False, server_default="1"),
)

# Tweak Settings (cPanel's name): server-wide switches such as allow_deprecated_accesshash.
tweak_settings = sa.Table(
    "tweak_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# The legacy Remote Access Key, one per root or reseller. Encrypted (the page shows it) and
# found by the SHA-512 digest of its newline-free form (never decrypted to authenticate).
access_hashes = sa.Table(
    "access_hashes",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("digest", sa.String(128), nullable=False, unique=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# An account's mail routing (cPanel's MXCHECK-<domain> and /etc/localdomains,
# /etc/remotedomains, /etc/secondarymx): how it asked mail for its domain to be treated
# (`auto`, `local`, `secondary`, `remote`) and what was last decided (null: never). One row per
# account: gatehouse accounts have one mail domain, their main one (migration 0029).
mail_routing = sa.Table(
    "mail_routing",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("mxcheck", sa.String(16), nullable=False),
    sa.Column("routing", sa.String(16), nullable=True),
)

# Where each cPanel account logged in from (migration 0034): cPanel's ~/.lastlogin
# (Cpanel/LastLogin/Tiny.pm), which UAPI `LastLogin::get_last_or_current_logged_in_ip` reads
# and writes. cPanel keeps the last 15 IPv4 addresses; its answer only ever reads the last two
# (the latest, and the one before it when the latest is the caller's own), so only those are
# kept. IPv4 only, as cPanel records them; no times, no credential of any kind.
last_logins = sa.Table(
    "last_logins",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("address", sa.String(15), nullable=False),
    sa.Column("previous", sa.String(15), nullable=True),
)

# Integration links (WHM create_integration_link, …; migration 0030): an application a
# billing system links into an account's cPanel interface — cPanel's
# /var/cpanel/integration/links/USER/APP.userconfig (`config`, JSON: the link's settings as
# given) and APP.adminconfig (the token the autologin URL is shown, encrypted with the key
# ring, bound to the account and app; null without one).
integration_links = sa.Table(
    "integration_links",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("app", sa.String(255), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("token_ciphertext", sa.LargeBinary, nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# Their groups in the interface (WHM create_integration_group): group_USER.userconfig.
integration_groups = sa.Table(
    "integration_groups",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("group_id", sa.String(255), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# One row, bumped by triggers (migration 0003) whenever a token check could change outcome;
# the token cache flushes when it moves. Not written by application code.
auth_generation = sa.Table(
    "auth_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

# Hosting plans (cPanel "packages"). `settings` holds the cPanel package keys (QUOTA, BWLIMIT,
# MAXFTP, …) validated by domain/packages.py; `owner` is root or the reseller that made it.
packages = sa.Table(
    "packages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# A reseller's IP addresses (WHM setresellerips / setresellermainip; migration 0032): the
# delegated pool (null: every address of the server, cPanel's absent /var/cpanel/dips/USER) and
# its main shared address (null: the server's, cPanel's absent /var/cpanel/mainips/USER).
reseller_ips = sa.Table(
    "reseller_ips",
    metadata,
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("delegated", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("main_ip", sa.String(45), nullable=True),
)

# Which packages a reseller may put accounts on, and how many (WHM setresellerpackagelimit;
# cPanel's package-limits.yaml `allowed.create` / `allowed.number`; migration 0032). Null: not
# set. A package's rows go with it.
reseller_package_limits = sa.Table(
    "reseller_package_limits",
    metadata,
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "package_id",
        sa.Integer,
        sa.ForeignKey("packages.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("allowed", sa.Boolean, nullable=True),
    sa.Column("number", sa.Integer, nullable=True),
)

# DNS zones (docs/dns.md). A zone is kept as the text of its zone file, which is the source of
# truth (clients address records by line); `serial` mirrors the SOA serial for the
# compare-and-swap every change makes. Root's zones belong to root's row.
zones = sa.Table(
    "zones",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(253), nullable=False, unique=True),  # no trailing dot
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("serial", sa.BigInteger, nullable=False),
    sa.Column("updated_time", sa.BigInteger, nullable=False),
    # Every zone's version without reading the texts (migration 0025): start-up, zone files.
    sa.Index("ix_zones_versions", "name", "id", "serial", "updated_time"),
)


# Subdomains (UAPI/API 2 `SubDomain`, domain/subdomains.py): a registered domain of the account
# whose records (an A record to the account's IP) live in the zone of `root_domain`.
subdomains = sa.Table(
    "subdomains",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(253), nullable=False, unique=True),  # the full domain
    sa.Column("root_domain", sa.String(253), nullable=False),  # the zone holding its records
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# Parked and addon domains (WHM's create_parked_domain_for_user, domain/parked_domains.py;
# migration 0033): a domain of the account with a zone of its own, served by the web vhost of
# the account's main domain (`vhost` NULL: cPanel's parked domain) or of one of its subdomains
# (an addon domain).
parked_domains = sa.Table(
    "parked_domains",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(253), nullable=False, unique=True),
    sa.Column("vhost", sa.String(253), nullable=True),  # the subdomain of an addon domain
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# Dynamic DNS domains (UAPI `DynamicDNS`, domain/dynamicdns.py). The webcall id is a secret:
# only its SHA-256 digest is kept, as for API tokens.
dynamic_dns = sa.Table(
    "dynamic_dns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("domain", sa.String(253), nullable=False, unique=True),
    sa.Column("zone", sa.String(253), nullable=False),  # the account's zone holding it
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("id_digest", sa.String(64), nullable=False, unique=True),
    # The id encrypted with the key ring, for `list` to show (migration 0028; null before it).
    sa.Column("id_ciphertext", sa.LargeBinary, nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("last_run_time", sa.BigInteger, nullable=True),
    sa.Column("last_update_time", sa.BigInteger, nullable=True),
)

# Bandwidth used per account, domain and month, in bytes (WHM `showbw`; domain/bandwidth.py).
# Fed by gatehouse_report_bandwidth / `gatehouse bandwidth import` (a web server's access
# logs): gatehouse serves no web sites, so it measures nothing itself.
bandwidth_usage = sa.Table(
    "bandwidth_usage",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("month", sa.Integer, nullable=False),  # 1-12
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.UniqueConstraint(
        "user_id", "domain", "year", "month", name="uq_bandwidth_usage_user_domain_month"
    ),
)

# Certificates (docs/ssl.md; domain/certificates.py): the PEM and the facts listed and checked
# without parsing it again. One row per account and certificate (SHA-256 of the DER).
ssl_certificates = sa.Table(
    "ssl_certificates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("fingerprint", sa.String(64), nullable=False),  # SHA-256 hex of the DER
    sa.Column("pem", sa.Text, nullable=False),
    sa.Column("names", sa.JSON, nullable=False),  # DNS names it covers (SANs, else the CN)
    sa.Column("subject_cn", sa.Text, nullable=False),
    sa.Column("issuer_cn", sa.Text, nullable=False),
    sa.Column("issuer_org", sa.Text, nullable=False),
    sa.Column("not_before", sa.BigInteger, nullable=False),
    sa.Column("not_after", sa.BigInteger, nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),  # SHA-256 hex of the public key
    sa.Column("modulus", sa.Text, nullable=True),  # RSA only
    sa.Column("key_algorithm", sa.String(16), nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("friendly_name", sa.Text, nullable=True),  # UAPI upload_cert's (migration 0012)
    sa.UniqueConstraint("user_id", "fingerprint", name="uq_ssl_certificates_user_fingerprint"),
)

# Private keys, ENCRYPTED with the server's key ring (AES-256-GCM, as the access hash): the
# plaintext never rests in the store. Found by the public key's id (`key_id`).
ssl_keys = sa.Table(
    "ssl_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("key_algorithm", sa.String(16), nullable=False),
    sa.Column("modulus", sa.Text, nullable=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("friendly_name", sa.Text, nullable=True),  # UAPI generate_key's (migration 0012)
    sa.UniqueConstraint("user_id", "key_id", name="uq_ssl_keys_user_key_id"),
)

# Installed certificates: one per web vhost (a domain of an account), with the CA bundle it
# was installed with. The files for the web server are written from these rows.
ssl_vhosts = sa.Table(
    "ssl_vhosts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("domain", sa.String(253), nullable=False, unique=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "certificate_id",
        sa.Integer,
        sa.ForeignKey("ssl_certificates.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("cabundle", sa.Text, nullable=True),
    sa.Column("installed_time", sa.BigInteger, nullable=False),
)

# cPHulk (brute-force containment, docs/security.md). Its settings, as cPanel names them.
cphulk_settings = sa.Table(
    "cphulk_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# The white list (never blocked) and the black list (always refused): an address, a CIDR
# block or a range, kept as given and as its first and last address (32 hex digits, IPv4
# mapped into IPv6, so that string order is address order).
cphulk_lists = sa.Table(
    "cphulk_lists",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("list_name", sa.String(8), nullable=False),
    sa.Column("first", sa.String(32), nullable=False),
    sa.Column("last", sa.String(32), nullable=False),
    sa.Column("given", sa.String(100), nullable=False),
    sa.Column("comment", sa.String(255), nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("list_name", "first", "last", name="uq_cphulk_lists_range"),
)

# Blocks in force: an address (`ip`, `excessive`) or a username's password logins (`user`).
cphulk_blocks = sa.Table(
    "cphulk_blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("address", sa.String(45), nullable=True, index=True),
    sa.Column("username", sa.String(64), nullable=True, index=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("expires_time", sa.BigInteger, nullable=False, index=True),
    sa.Column("failures", sa.Integer, nullable=False),
)

# Failed (and, while a password is being checked, pending) logins, counted per address and
# per username in sliding windows.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.BigInteger, nullable=False, index=True),
    sa.Column("address", sa.String(45), nullable=True, index=True),
    sa.Column("username", sa.String(64), nullable=True, index=True),
    sa.Column("service", sa.String(16), nullable=False),
    sa.Column("authservice", sa.String(16), nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),
)

# DNS cluster peers this node pushes its zones to (docs/cluster.md); the token is encrypted
# with the key ring.
cluster_peers = sa.Table(
    "cluster_peers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("host", sa.String(253), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("scheme", sa.String(5), nullable=False),  # https | http
    sa.Column("verify_tls", sa.Boolean, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("token_ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # standalone | sync | write-only
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("last_delivery_time", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),  # the last failure to reach the peer
    sa.Column("last_error_time", sa.BigInteger, nullable=True),
    # "added" by an administrator, or "trust" (a cPanel server's reverse trust request)
    sa.Column("origin", sa.String(16), nullable=False, server_default="added"),
    sa.UniqueConstraint("host", "port", name="uq_cluster_peers_host_port"),
)

# dnsuniqids applied here lately (a digest of id, action and zones), shared by every process
# and node on the store so that a change coming back around a ring is not applied twice.
cluster_seen = sa.Table(
    "cluster_seen",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("seen_time", sa.BigInteger, nullable=False, index=True),
)

# Zone changes waiting to be pushed, written in the transaction of the change itself.
cluster_outbox = sa.Table(
    "cluster_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "peer_id",
        sa.Integer,
        sa.ForeignKey("cluster_peers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("zone", sa.String(253), nullable=False),
    sa.Column("action", sa.String(8), nullable=False),  # add | save | remove (dns.zones)
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt", sa.BigInteger, nullable=False, index=True),
    sa.Column("claimed_until", sa.BigInteger, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)

# Certificate signing requests made for an account's domains (UAPI generate_csr, WHM
# generatessl; domain/ssl_requests.py). The CSR holds no secret; its key is in `ssl_keys`.
ssl_csrs = sa.Table(
    "ssl_csrs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("fingerprint", sa.String(64), nullable=False),  # SHA-256 hex of the DER
    sa.Column("pem", sa.Text, nullable=False),
    sa.Column("domains", sa.JSON, nullable=False),
    sa.Column("subject_cn", sa.Text, nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),  # SHA-256 hex of the public key
    sa.Column("friendly_name", sa.Text, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("user_id", "fingerprint", name="uq_ssl_csrs_user_fingerprint"),
)

# Background work that one process (of every node on the store) runs at a time: whoever holds
# the unexpired lease (domain/leases.py). `last_done`: when the work last completed.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires", sa.BigInteger, nullable=False),
    sa.Column("claimed_time", sa.BigInteger, nullable=False),
    sa.Column("last_done", sa.BigInteger, nullable=True),
)

# AutoSSL (docs/ssl.md; domain/autossl.py). The ACME account per directory URL: its key is
# ENCRYPTED with the key ring, bound to the directory.
autossl_accounts = sa.Table(
    "autossl_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("directory", sa.String(1000), nullable=False, unique=True),
    sa.Column("key_ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("account_uri", sa.Text, nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# AutoSSL's last outcome per domain: `problem` null when the domain is covered.
autossl_domains = sa.Table(
    "autossl_domains",
    metadata,
    sa.Column("domain", sa.String(253), primary_key=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("checked_time", sa.BigInteger, nullable=False),
    sa.Column("run_time", sa.BigInteger, nullable=False),  # the start of the check's run
    sa.Column("problem", sa.Text, nullable=True),
    sa.Column("failures", sa.Integer, nullable=False),  # failed orders in a row
    sa.Column("next_attempt", sa.BigInteger, nullable=False),  # the backoff's end
)

# The domains an account excludes from AutoSSL (cPanel's "excluded domains"; migration 0024).
autossl_excluded_domains = sa.Table(
    "autossl_excluded_domains",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("domain", sa.String(253), primary_key=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

# Checks asked for (start_autossl_check…): one account's, or all (user_id null).
autossl_requests = sa.Table(
    "autossl_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    sa.Column("requested_time", sa.BigInteger, nullable=False),
    sa.Column("requested_by", sa.String(64), nullable=False),
)

# The service certificate of gatehouse's own TLS ports (WHM install_service_ssl_certificate;
# `cpanel` = cpsrvd's ports 2083 and 2087), its key ENCRYPTED with the key ring. The store is
# the truth: every node writes its TLS files from this row (migration 0017).
service_certificates = sa.Table(
    "service_certificates",
    metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("pem", sa.Text, nullable=False),
    sa.Column("cabundle", sa.Text, nullable=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("key_ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("installed_time", sa.BigInteger, nullable=False),
)

# UAPI SSL::set_default_key_type's choice per account (migration 0017).
ssl_key_type_defaults = sa.Table(
    "ssl_key_type_defaults",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key_type", sa.String(32), nullable=False),
)

# Token notices (issue 17 part 4, domain/notices.py; migration 0018). Each address a token
# was used from, recorded with the batched last-use write (never per request); `pending`
# until the notice pass has looked at it.
token_addresses = sa.Table(
    "token_addresses",
    metadata,
    sa.Column(
        "token_id",
        sa.Integer,
        sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("ip", sa.String(45), primary_key=True),
    sa.Column("first_seen", sa.BigInteger, nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False, index=True),
)

# The durable queue of notices: one row per notice and channel (webhook | email), queued once
# (unique dedup key), claimed for delivery with one conditional UPDATE, retried with backoff.
# `payload` is JSON holding no secret; `status` is pending | delivered | failed.
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("token_name", sa.String(51), nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("recipients", sa.Text, nullable=True),  # e-mail: comma-separated addresses
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt", sa.BigInteger, nullable=False),
    sa.Column("claimed_until", sa.BigInteger, nullable=False),
    sa.Column("delivered_time", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("dedup_key", "channel", name="uq_notices_dedup_key"),
    sa.Index("ix_notices_status_next_attempt", "status", "next_attempt"),
)

# The previous secret of a rotated API token (docs/governance.md, rotation): its digest works
# until `expires_at`, then stops; one per token (a new rotation ends the one before). Deleted
# with the token, so a revoke ends both secrets at once.
token_grace = sa.Table(
    "token_grace",
    metadata,
    sa.Column("digest", sa.String(128), primary_key=True),
    sa.Column(
        "token_id",
        sa.Integer,
        sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("rotated_at", sa.BigInteger, nullable=False),
)

# The requests of each rate-limited API token (api_tokens.rate_limit), counted in the store so
# that every process and node shares the count: this minute's and the last one's, for a
# sliding-window estimate (domain/token_rate.py).
token_rate = sa.Table(
    "token_rate",
    metadata,
    sa.Column(
        "token_id",
        sa.Integer,
        sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("this_minute", sa.Integer, nullable=False),
    sa.Column("last_minute", sa.Integer, nullable=False),
)

# The notices webhook's signing secret (domain/notices.py; migration 0021), ENCRYPTED with the
# key ring: every node on the store signs with it. GATEHOUSE_NOTICE_WEBHOOK_SECRET overrides it.
notice_secrets = sa.Table(
    "notice_secrets",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("set_time", sa.BigInteger, nullable=False),
)

# The functions each API token has called — calls, first and last time, the last result (`ok`,
# `failed`, `missing_privilege`, `out_of_scope`, …) — written in batches from memory
# (domain/token_usage.py), never per request.
token_usage = sa.Table(
    "token_usage",
    metadata,
    sa.Column(
        "token_id",
        sa.Integer,
        sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("function", sa.String(100), primary_key=True),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.Column("first_time", sa.BigInteger, nullable=False),
    sa.Column("last_time", sa.BigInteger, nullable=False),
    sa.Column("last_result", sa.String(32), nullable=False),
)
