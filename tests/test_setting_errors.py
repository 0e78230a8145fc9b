"""A setting of the wrong kind stops a command with one line naming the setting (exit 1), not
a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import BIN


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEHOUSE_HTTP_PORT": "abc"}, "GATEHOUSE_HTTP_PORT: “abc” is not a whole number."),
        ({"GATEHOUSE_HOOK_TIMEOUT": "soon"}, "GATEHOUSE_HOOK_TIMEOUT: “soon” is not a number."),
        ({"GATEHOUSE_TLS_MIN_VERSION": "1.0"}, "GATEHOUSE_TLS_MIN_VERSION must be 1.2 or 1.3"),
        ({"GATEHOUSE_TRUSTED_PROXIES": "foo"}, "GATEHOUSE_TRUSTED_PROXIES: 'foo' is not an IP"),
        ({"GATEHOUSE_TOKEN_MAX_LIFETIME_DAYS": "30d"}, "GATEHOUSE_TOKEN_MAX_LIFETIME_DAYS: "),
        ({"GATEHOUSE_PASSWORD_HASHING": "md5"}, "GATEHOUSE_PASSWORD_HASHING must be one of"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["whmapi1", "version"]])
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], message: str, command: list[str]
) -> None:
    result = subprocess.run(
        [str(BIN), *command],
        env={**os.environ, "GATEHOUSE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
