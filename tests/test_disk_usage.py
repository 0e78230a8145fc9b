"""getdiskusage: the machine's filesystems as cPanel's Whostmgr/API/1/Sys.pm answers them —
over HTTP against this machine's own mounts, and, for which mounts count and how the
percentages round, against made-up statfs figures (Cpanel::Filesys::Info, Filesys::Df)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from conftest import Server
from gatehouse.whm.functions import disk_usage

KEYS = [
    "available",
    "device",
    "disk",
    "filesystem",
    "inodes_available",
    "inodes_ipercentage",
    "inodes_total",
    "inodes_used",
    "mount",
    "percentage",
    "total",
    "used",
]


def test_getdiskusage_lists_the_partitions_with_the_root_filesystem(server: Server) -> None:
    response = server.get("getdiskusage")
    body = response.json()
    assert body["metadata"] == {
        "command": "getdiskusage",
        "reason": "Successfully retrieved disk usage",
        "result": 1,
        "version": 1,
    }
    found = body["data"]["partition"]
    assert found, body
    for entry in found:
        assert sorted(entry) == KEYS
        for key in ("filesystem", "disk", "device", "mount"):
            assert isinstance(entry[key], str), entry
        for key in ("percentage", "total", "used", "available"):
            assert isinstance(entry[key], int | float) and entry[key] >= 0, entry
        assert entry["used"] <= entry["total"]
    root = next(e for e in found if e["mount"] == "/")
    st = os.statvfs("/")
    assert root["total"] == st.f_blocks * st.f_frsize // 1024
    assert root["filesystem"] == "/"
    assert root["disk"] == root["device"].removeprefix("/dev/")
    # Used and available move between the call and this look; a few MiB of slack.
    assert abs(root["available"] - st.f_bavail * st.f_frsize // 1024) < 64 * 1024
    assert 0 <= root["percentage"] <= 100
    assert not any(e["mount"].startswith(("/proc", "/sys", "/dev")) for e in found)


def test_getdiskusage_is_roots_alone(server: Server) -> None:
    reseller, token = server.reseller(privileges=["basic-system-info", "status"])
    response = server.get("getdiskusage", user=reseller, token=token)
    assert response.status_code == 403
    reason = response.json()["metadata"]["reason"]
    assert reason == "Access denied: calling “getdiskusage” requires the “all” privilege."


# -- which mounts count (no server) ----------------------------------------------------------


def fake_statvfs(
    figures: dict[str, int] | None = None, broken: tuple[str, ...] = ()
) -> disk_usage.Statvfs:
    """statfs answering `figures` (over a default: 4 KiB blocks, 1000 of them, 400 free of
    which 300 for users; 100 inodes, 60 free) for every path but the `broken` ones."""
    f = {"frsize": 4096, "blocks": 1000, "bfree": 400, "bavail": 300} | (figures or {})
    f = {"files": 100, "ffree": 60, "favail": 60} | f
    row = [f["frsize"], f["frsize"], f["blocks"], f["bfree"], f["bavail"]]
    row += [f["files"], f["ffree"], f["favail"], 0, 255]

    def statvfs(path: str) -> os.statvfs_result:
        if path in broken:
            raise OSError(2, "No such file or directory", path)
        return os.statvfs_result(row)

    return statvfs


@pytest.mark.parametrize(
    ("line", "counted"),
    [
        ("/dev/sda1 / ext4 rw 0 0", True),
        ("/dev/sda2 /home xfs rw 0 0", True),
        ("/dev/sda3 /boot ext4 rw 0 0", True),  # want_boot
        ("/usr/tmpDSK /tmp ext3 rw 0 0", True),
        ("tmpfs /run tmpfs rw 0 0", False),
        ("proc /proc proc rw 0 0", False),
        ("sysfs /sys sysfs rw 0 0", False),
        ("devtmpfs /dev devtmpfs rw 0 0", False),  # a rejected root, whatever the type
        ("/dev/sdb1 /sys/fs/pstore ext4 rw 0 0", False),
        ("/dev/sdb1 /var/cagefs ext4 rw 0 0", False),
        ("/dev/sdb1 /home/virtfs/bob/home ext4 rw 0 0", False),
        ("/dev/sdb1 /usr/share/cagefs-skeleton ext4 rw 0 0", False),
        ("server:/export /mnt/nfs nfs rw 0 0", False),
        ("/dev/loop3 /snap/core/123 squashfs ro 0 0", False),
        ("/dev/loop3 /mnt/image squashfs ro 0 0", True),
        ("/dev/sdc1 /mnt/with\\040space ext4 rw 0 0", False),  # statfs of the escaped path
    ],
)
def test_which_mounts_are_listed(line: str, counted: bool) -> None:
    statvfs = fake_statvfs(broken=("/mnt/with\\040space",))
    found = disk_usage.partitions(line, statvfs)
    assert [e["device"] for e in found] == ([line.split()[0]] if counted else [])


def test_a_mount_point_counts_once_and_its_entry_names_it() -> None:
    text = "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 / ext4 rw 0 0\n/dev/mapper/vg-home /home xfs rw 0 0"
    found = disk_usage.partitions(text, fake_statvfs())
    assert [(e["device"], e["disk"], e["mount"], e["filesystem"]) for e in found] == [
        ("/dev/sda1", "sda1", "/", "/"),
        ("/dev/mapper/vg-home", "mapper/vg-home", "/home", "/home"),
    ]


def test_nothing_when_the_root_cannot_be_measured() -> None:
    assert disk_usage.partitions("/dev/sda1 / ext4 rw 0 0", fake_statvfs(broken=("/",))) == []
    assert disk_usage.partitions("/dev/sda1 / ext4 rw 0 0", fake_statvfs({"blocks": 0})) == []


# -- the figures (Filesys::Df::df(mount, 1024)) ----------------------------------------------


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        # 4 KiB blocks, root keeps 100 of the 400 free: used over what users may have.
        (
            {},
            {"total": 4000, "used": 2400, "available": 1200, "percentage": 67},
        ),  # 600/900 = 66.7
        # No reserve: used over the whole.
        (
            {"bfree": 300, "bavail": 300},
            {"total": 4000, "used": 2800, "available": 1200, "percentage": 70},
        ),
        # Half rounds up.
        (
            {"blocks": 200, "bfree": 1, "bavail": 1, "frsize": 1024},
            {"total": 200, "used": 199, "available": 1, "percentage": 100},
        ),
        (
            {"blocks": 1000, "bfree": 995, "bavail": 995, "frsize": 1024},
            {"total": 1000, "used": 5, "available": 995, "percentage": 1},
        ),
        # Empty: 0 %.
        (
            {"blocks": 10, "bfree": 10, "bavail": 10},
            {"total": 40, "used": 0, "available": 40, "percentage": 0},
        ),
        # 512-byte blocks halve, and an odd count stays a fraction, as Perl divides.
        (
            {"frsize": 512, "blocks": 3, "bfree": 1, "bavail": 1},
            {"total": 1.5, "used": 1.0, "available": 0.5, "percentage": 67},
        ),
    ],
)
def test_space_figures(stat: dict[str, int], expected: dict[str, Any]) -> None:
    figures = disk_usage.measure("/", fake_statvfs(stat))
    assert figures is not None
    assert {k: figures[k] for k in expected} == expected
    assert all(type(figures[k]) is type(v) for k, v in expected.items())


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        (
            {},
            {
                "inodes_total": 100,
                "inodes_used": 40,
                "inodes_available": 60,
                "inodes_ipercentage": 40,
            },
        ),
        # A reserve of inodes (ffree > favail): used over what users may have.
        (
            {"files": 100, "ffree": 60, "favail": 50},
            {
                "inodes_total": 100,
                "inodes_used": 40,
                "inodes_available": 50,
                "inodes_ipercentage": 44,
            },
        ),
        # No inode count (btrfs): no inode figures, as Filesys::Df leaves them out.
        (
            {"files": 0, "ffree": 0, "favail": 0},
            {
                "inodes_total": None,
                "inodes_used": None,
                "inodes_available": None,
                "inodes_ipercentage": None,
            },
        ),
    ],
)
def test_inode_figures(stat: dict[str, int], expected: dict[str, Any]) -> None:
    figures = disk_usage.measure("/", fake_statvfs(stat))
    assert figures is not None
    assert {k: figures[k] for k in expected} == expected
