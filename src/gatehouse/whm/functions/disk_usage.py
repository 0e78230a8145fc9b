"""getdiskusage: the machine's mounted filesystems, their space and inodes, as cPanel's
Whostmgr/API/1/Sys.pm `getdiskusage` answers them.

cPanel's path: Cpanel::DiskLib::get_disk_used_percentage_with_dupedevs over
Cpanel::Filesys::Info::_all_filesystem_info. The mounts are /proc/mounts's lines, in order,
a mount point counted once (its first line), less

* the filesystem types Cpanel::Filesys::Info skips (autofs, cifs, devpts, nfs, proc,
  rpc_pipefs, rootfs, smbfs, sysfs, tmpfs) and the mount roots it rejects (/dev, /proc, /sys,
  /var/cagefs and what is under them; any .../cagefs/... or .../virtfs/...);
* CageFS's skeleton and snap's loop mounts (DiskLib);
* what statfs cannot measure, or measures as 0 blocks (Filesys::Df answers nothing for it).

Each is measured as Filesys::Df::df(mount, 1024) does (3rdparty Filesys/Df.pm): sizes in KiB,
`available` what a user may still write (f_bavail), `used` all that is used, root's reserve
included, and the percentages rounded half up over what users may have (used + available).
An inode count of 0 (btrfs) gives no inode figures: null, as Perl's undef is.

/proc/mounts escapes a space in a path as `\\040`; cPanel splits the line on spaces and
statfs's the escaped path, which fails, so such a mount is left out. So is it here.

Unlike cPanel, no 30-second cache: statvfs costs microseconds, and there is no `df` to fall
back on (gatehouse does not shell out); when even / cannot be measured, the call fails.

The recording of cPanel 11.42 (lumberg server/disk_usage.yml) has `filesystem` the device
and no inode keys; today's source sets `filesystem` to the mount point (Filesys/Info.pm
`filesystem ||= $mount_point` on the statfs path) and adds the inode keys. Clients reading
`device`, `disk` and `mount` get the same either way; the newer shape is kept.

Privilege: root's. WHM API 1's own table is compiled (not in cPanel's readable source);
WHM's page that shows the same figures, "Show Current Disk Usage", is `ACL=all`
(whostmgr/docroot/themes/x/dynamicui.conf), and a partition list is not a reseller's to see.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Reply
from gatehouse.errors import GatehouseError
from gatehouse.whm.registry import REGISTRY

PROC_MOUNTS = Path("/proc/mounts")

SKIPPED_TYPES = frozenset(
    ("autofs", "cifs", "devpts", "nfs", "proc", "rpc_pipefs", "rootfs", "smbfs", "sysfs", "tmpfs")
)
REJECTED_ROOTS = ("dev", "proc", "sys", "var/cagefs")

Statvfs = Callable[[str], os.statvfs_result]
Number = int | float


def _rejected(mount: str) -> bool:
    """Cpanel::Filesys::Info::_should_exclude_mount_point."""
    for root in REJECTED_ROOTS:
        if mount == f"/{root}" or mount.startswith(f"/{root}/"):
            return True
    return "/cagefs/" in mount or "/virtfs/" in mount


def _jailed(line: str) -> bool:
    """Cpanel::Filesys::Mounts drops a line naming a CageFS or virtfs path (`/cagefs/`,
    `/cagefs-`, `/virtfs/`, `/virtfs-` anywhere in it) before anything else reads it."""
    return any(f"/{jail}{sep}" in line for jail in ("cagefs", "virtfs") for sep in "/-")


def _kib(count: int, frsize: int) -> Number:
    """A count of `frsize` blocks in 1024-byte blocks, as Filesys::Df scales it: exact when
    the block is 1 KiB or larger; a fraction stays a fraction (Perl's division)."""
    value = count * frsize / 1024
    return int(value) if value == int(value) else value


def _percent(used: Number, free: Number, available: Number, total: Number) -> int:
    """Filesys::Df's `per`/`fper`: over what a user may have when root keeps a reserve
    (free > available), else over the whole; rounded half up (`int($per * 100 + .5)`)."""
    if free > available:
        user_total = total - (free - available)
        user_used = user_total - available
        ratio = 0 if user_used == 0 else user_used / user_total
    else:
        ratio = 0 if used == 0 else used / total
    return int(ratio * 100 + 0.5)


def measure(mount: str, statvfs: Statvfs = os.statvfs) -> dict[str, Any] | None:
    """Filesys::Df::df(mount, 1024) reduced to what getdiskusage answers; None when statfs
    fails or finds no blocks (as df() returns nothing)."""
    try:
        st = statvfs(mount)
    except OSError:
        return None
    if st.f_frsize == 0 or st.f_blocks == 0:
        return None
    total = _kib(st.f_blocks, st.f_frsize)
    free = _kib(st.f_bfree, st.f_frsize)
    available = _kib(st.f_bavail, st.f_frsize)
    used = total - free
    figures: dict[str, Any] = {
        "percentage": _percent(used, free, available, total),
        "total": total,
        "used": used,
        "available": available,
        "inodes_ipercentage": None,
        "inodes_total": None,
        "inodes_used": None,
        "inodes_available": None,
    }
    if st.f_files > 0:
        inodes_used = st.f_files - st.f_ffree
        figures |= {
            "inodes_ipercentage": _percent(inodes_used, st.f_ffree, st.f_favail, st.f_files),
            "inodes_total": st.f_files,
            "inodes_used": inodes_used,
            "inodes_available": st.f_favail,
        }
    return figures


def _mounts(text: str) -> Iterator[tuple[str, str]]:
    """(device, mount point) of each measurable /proc/mounts line, a mount point once."""
    seen: set[str] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or _jailed(line):
            continue
        device, mount, fstype = fields[0], fields[1], fields[2]
        if mount in seen or _rejected(mount) or fstype in SKIPPED_TYPES:
            continue
        seen.add(mount)
        if mount.startswith("/usr/share/cagefs-skeleton"):
            continue
        disk = device.removeprefix("/dev/")
        if disk.startswith("loop") and mount.startswith("/snap/"):
            continue
        yield device, mount


def partitions(mounts_text: str, statvfs: Statvfs = os.statvfs) -> list[dict[str, Any]]:
    """getdiskusage's `partition` list for a /proc/mounts text; empty when / cannot be
    measured (cPanel then falls back to `df`, which gatehouse does not run)."""
    if measure("/", statvfs) is None:
        return []
    found: list[dict[str, Any]] = []
    for device, mount in _mounts(mounts_text):
        figures = measure(mount, statvfs)
        if figures is None:
            continue
        found.append(
            {
                "filesystem": mount,
                "disk": device.removeprefix("/dev/"),
                "device": device,
                **figures,
                "mount": mount,
            }
        )
    return found


@REGISTRY.function(
    "getdiskusage",
    "The server's mounted filesystems: space and inodes used and available (root only).",
    privileges=(acls.ALL,),
    readonly=True,
)
def getdiskusage(call: Call) -> Reply:
    try:
        text = PROC_MOUNTS.read_text(errors="replace")
    except OSError:
        text = ""
    found = partitions(text)
    if not found:
        raise GatehouseError("Unable to retrieve disk usage")
    return Reply(data={"partition": found}, reason="Successfully retrieved disk usage")
