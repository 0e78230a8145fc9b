"""Operator hooks: unit tests of gatehouse.hooks.Hooks, and the suspendacct hooks over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Server
from gatehouse.hooks import HookRefused, Hooks
from lifecycle_helpers import account_state, audit_rows
from whm_helpers import new_name


def _script(path: Path, body: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(mode)
    return path


# -- unit: Hooks ---------------------------------------------------------------------------


def test_success_gets_the_event_as_json_on_stdin(tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    _script(tmp_path / "suspendacct" / "before" / "10-log", f'cat > "{seen}"\necho fine\n')
    results = Hooks(tmp_path).run("suspendacct", "before", {"user": "bob", "reason": "x"})
    assert [(r.path.name, r.ok, r.message) for r in results] == [("10-log", True, "fine")]
    assert json.loads(seen.read_text()) == {
        "event": "suspendacct",
        "phase": "before",
        "user": "bob",
        "reason": "x",
    }


def test_hooks_do_not_inherit_gatehouse_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", "postgresql://gh:hunter2@db/gh")
    monkeypatch.setenv("GATEHOUSE_SECRET_KEY", "not-for-hooks")
    monkeypatch.setenv("OPERATOR_SETTING", "kept")
    seen = tmp_path / "env.txt"
    _script(tmp_path / "suspendacct" / "before" / "10-env", f'env > "{seen}"\n')
    Hooks(tmp_path).run("suspendacct", "before", {"user": "bob"})
    env = seen.read_text()
    assert "OPERATOR_SETTING=kept" in env
    assert "GATEHOUSE_" not in env and "hunter2" not in env


def test_non_zero_exit_aborts_with_the_hooks_message(tmp_path: Path) -> None:
    later = tmp_path / "later-ran"
    _script(
        tmp_path / "removeacct" / "before" / "10-no", "echo 'customer has a backup' >&2\nexit 3\n"
    )
    _script(tmp_path / "removeacct" / "before" / "20-later", f'touch "{later}"\n')
    with pytest.raises(HookRefused) as refused:
        Hooks(tmp_path).run("removeacct", "before", {"user": "bob"})
    assert refused.value.reason == (
        "The “removeacct” hook “10-no” refused the change: customer has a backup"
    )
    assert not later.exists(), "hooks after a refusal must not run"


def test_silent_failure_names_the_exit_status(tmp_path: Path) -> None:
    _script(tmp_path / "changepackage" / "before" / "10-x", "exit 7\n")
    with pytest.raises(HookRefused, match="exited with status 7"):
        Hooks(tmp_path).run("changepackage", "before", {})


def test_stdout_is_the_message_when_stderr_is_empty(tmp_path: Path) -> None:
    _script(tmp_path / "changepackage" / "before" / "10-x", "echo 'first line'\necho two\nexit 1\n")
    with pytest.raises(HookRefused, match=r"refused the change: first line$"):
        Hooks(tmp_path).run("changepackage", "before", {})


def test_timeout_aborts_and_kills_the_hook(tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    # The child `sleep` would keep the output pipes open if only the shell were killed.
    _script(
        tmp_path / "suspendacct" / "before" / "10-slow",
        f'sleep 5\ntouch "{marker}"\n',
    )
    started = time.monotonic()
    with pytest.raises(HookRefused) as refused:
        Hooks(tmp_path, timeout=0.5).run("suspendacct", "before", {})
    assert time.monotonic() - started < 4
    assert refused.value.reason == (
        "The “suspendacct” hook “10-slow” refused the change: did not finish within 0.5 seconds"
    )
    time.sleep(0.1)
    assert not marker.exists()


def test_non_executable_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "suspendacct" / "before"
    _script(folder / "10-readme", "exit 1\n", mode=0o644)
    _script(folder / ".20-hidden", "exit 1\n")
    (folder / "30-dir").mkdir()
    hooks = Hooks(tmp_path)
    assert hooks.scripts("suspendacct", "before") == []
    assert hooks.run("suspendacct", "before", {}) == []


def test_after_failure_is_logged_not_raised(tmp_path: Path) -> None:
    ran = tmp_path / "second-ran"
    _script(tmp_path / "unsuspendacct" / "after" / "10-broken", "echo boom >&2\nexit 1\n")
    _script(tmp_path / "unsuspendacct" / "after" / "20-next", f'touch "{ran}"\n')
    results = Hooks(tmp_path).run("unsuspendacct", "after", {"user": "bob"})
    assert [(r.path.name, r.ok, r.message) for r in results] == [
        ("10-broken", False, "boom"),
        ("20-next", True, ""),
    ]
    assert ran.exists()


def test_hooks_run_in_name_order(tmp_path: Path) -> None:
    log = tmp_path / "order"
    for name in ("20-b", "10-a", "30-c"):
        _script(tmp_path / "createacct" / "after" / name, f'echo {name} >> "{log}"\n')
    Hooks(tmp_path).run("createacct", "after", {})
    assert log.read_text().split() == ["10-a", "20-b", "30-c"]


def test_no_directory_means_no_hooks(tmp_path: Path) -> None:
    assert Hooks(tmp_path / "absent").run("removeacct", "before", {}) == []


def test_unknown_event_or_phase_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown hook"):
        Hooks(tmp_path).run("nosuchevent", "before", {})
    with pytest.raises(ValueError, match="unknown hook"):
        Hooks(tmp_path).run("suspendacct", "during", {})


# -- over HTTP: suspendacct ----------------------------------------------------------------


@pytest.fixture
def hook_dir(server: Server) -> Iterator[Path]:
    folder = server.data_dir / "hooks" / "suspendacct"
    made: list[Path] = []
    yield folder
    for phase in ("before", "after"):
        for path in (folder / phase).glob("*") if (folder / phase).is_dir() else []:
            made.append(path)
    for path in made:
        path.unlink()


def _only_for(user: str, body: str) -> str:
    """A hook body that acts only for `user` (the server is shared with other tests)."""
    return (
        f'payload=$(cat)\ncase "$payload" in *\'"user": "{user}"\'*) ;; *) exit 0 ;; esac\n' + body
    )


def test_before_hook_refusal_aborts_suspendacct(server: Server, hook_dir: Path) -> None:
    username, _ = server.account()
    _script(
        hook_dir / "before" / "10-billing", _only_for(username, "echo 'invoice paid' >&2\nexit 1\n")
    )
    reason = server.fail("suspendacct", params={"user": username, "reason": "Overdue"})
    assert reason == "The “suspendacct” hook “10-billing” refused the change: invoice paid"
    state = account_state(server, username)
    assert state is not None and not state["suspended"]
    assert audit_rows(server, "SUSPENDACCT", username) == []


def test_before_and_after_hooks_see_the_event(
    server: Server, hook_dir: Path, tmp_path: Path
) -> None:
    username, _ = server.account()
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    _script(hook_dir / "before" / "10-log", _only_for(username, f'echo "$payload" > "{before}"\n'))
    _script(hook_dir / "after" / "10-log", _only_for(username, f'echo "$payload" > "{after}"\n'))
    server.ok("suspendacct", params={"user": username, "reason": "Overdue", "disallowun": "1"})
    seen_before = json.loads(before.read_text())
    seen_after = json.loads(after.read_text())
    assert seen_before["phase"] == "before" and seen_after["phase"] == "after"
    for seen in (seen_before, seen_after):
        assert seen["event"] == "suspendacct"
        assert (seen["user"], seen["owner"], seen["reason"], seen["disallowun"]) == (
            username,
            "root",
            "Overdue",
            1,
        )
        assert seen["actor"] == "root" and seen["token_name"] == "harness-root"
        assert seen["domain"] == f"{username}.example.com"
        assert isinstance(seen["time"], int)


def test_after_hook_failure_does_not_undo_the_change(server: Server, hook_dir: Path) -> None:
    username, _ = server.account()
    _script(hook_dir / "after" / "10-broken", _only_for(username, "echo boom >&2\nexit 1\n"))
    server.ok("suspendacct", params={"user": username})
    state = account_state(server, username)
    assert state is not None and state["suspended"]


def test_a_refused_call_runs_no_hooks(server: Server, hook_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _script(hook_dir / "before" / "10-x", f'touch "{marker}"\n')
    server.fail("suspendacct", params={"user": new_name()})
    server.fail("suspendacct", params={"user": "root"})
    assert not marker.exists()
