"""`make bench`: gatehouse under a real load generator (wrk) on loopback.

Run as `python -m bench` (see `python -m bench --help`); the method and the latest figures
are in docs/performance.md.
"""
