"""gatehouse: WHM-style remote access — API tokens, the WHM API 1 server and its command line."""

__version__ = "0.1.0"

# The cPanel & WHM release whose wire behaviour gatehouse reproduces; reported by `version`
# because clients (DNS cluster setup, for one) compare it against minimum WHM versions.
WHM_COMPAT_VERSION = "11.120.0.16"
