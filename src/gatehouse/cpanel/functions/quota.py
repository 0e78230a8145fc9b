"""UAPI `Quota::get_quota_info` and `Quota::get_local_quota_info`, as cPanel's
Cpanel/API/Quota.pm answers them on a server whose filesystem has no quotas
(`Cpanel::Quota::displayquota` answers `NA`): nothing used, against the account's limit —
the cpuser file's DISK_BLOCK_LIMIT, which createacct writes from the package's QUOTA
whether or not the filesystem enforces it. gatehouse keeps no files of the account's, so
what it uses is truly 0 (StatsBar's `diskusage` says the same); there are no inode limits.

The types are cPanel's: Quota.pm answers `'0.00'` and `'0'` (strings) where a figure is 0,
and numbers otherwise (`megabyte_limit` 1024, not `'1024.00'`: Perl's `0 +` of to_mib's
two-decimal text).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import packages

MODULE = "Quota"
MIB = 1024 * 1024


def _mib(value: int) -> int | float:
    # Cpanel::Math::Bytes::to_mib (sprintf "%.2f" of bytes / 1 MiB), numified by `0 +`.
    number = float(f"{value / MIB:.2f}")
    return int(number) if number.is_integer() else number


def byte_limit(call: Call) -> int:
    """The account's disk limit in bytes (DISK_BLOCK_LIMIT × 1024); 0: none."""
    return packages.limit_bytes(packages.with_defaults(call.caller_account().limits), "QUOTA")


@uapi(MODULE, "get_quota_info", "The account's disk quota and what it uses of it.",
      readonly=True)  # fmt: skip
def get_quota_info(call: Call) -> dict[str, Any]:
    limit = byte_limit(call)
    used = 0  # no files are kept for the account (displayquota's `NA`: nothing to count)
    return {
        "inode_limit": "0",
        "inodes_remain": "0",
        "inodes_used": "0",
        "megabyte_limit": _mib(limit) if limit else "0.00",
        "megabytes_remain": (_mib(limit - used) or "0.00") if limit else "0.00",
        "megabytes_used": "0.00",
        "under_inode_limit": 1,
        "under_megabyte_limit": 1,
        "under_quota_overall": 1,
    }


@uapi(MODULE, "get_local_quota_info", "The account's disk use on this server, as the "
      "filesystem's quota reports it.", readonly=True)  # fmt: skip
def get_local_quota_info(call: Call) -> dict[str, Any]:
    # Quota.pm: displayquota's `NA` empties the list, so every figure is undefined.
    return {"byte_limit": None, "bytes_used": None, "inode_limit": None, "inodes_used": None}
