"""GATEHOUSE_PASSWORD_HASHING (docs/security.md#passwords): the cost of new Argon2id hashes;
every stored hash verifies whichever is set."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from conftest import run_cli, start_server, stop_server
from gatehouse import config, passwords

PARAMETERS = {
    "rfc9106": "$argon2id$v=19$m=65536,t=3,p=4$",
    "owasp": "$argon2id$v=19$m=19456,t=2,p=1$",
}


@pytest.fixture
def profile() -> Iterator[None]:
    yield
    passwords.use_profile(passwords.DEFAULT_PROFILE)


def test_the_settings_names_are_the_profiles() -> None:
    assert set(config.PASSWORD_HASHING) == set(passwords.PROFILES) == set(PARAMETERS)
    assert config.Config().password_hashing == passwords.DEFAULT_PROFILE


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_a_profile_sets_the_parameters_of_new_hashes(name: str, profile: None) -> None:
    passwords.use_profile(name)
    assert passwords.hash_password("correct horse").startswith(PARAMETERS[name])


@pytest.mark.parametrize(("made", "checked"), [("rfc9106", "owasp"), ("owasp", "rfc9106")])
def test_a_hash_verifies_whichever_profile_is_set(made: str, checked: str, profile: None) -> None:
    passwords.use_profile(made)
    stored = passwords.hash_password("correct horse")
    passwords.use_profile(checked)
    assert passwords.verify_password(stored, "correct horse")
    assert not passwords.verify_password(stored, "wrong horse")


@pytest.mark.parametrize(("written", "read"), [("owasp", "owasp"), (" OWASP ", "owasp")])
def test_the_setting_is_read_from_the_environment(
    written: str, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEHOUSE_PASSWORD_HASHING", written)
    assert config.from_environment().password_hashing == read


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_a_server_hashes_new_passwords_with_the_chosen_cost(tmp_path: Path, name: str) -> None:
    """createacct stores the chosen profile's parameters (the default's too: the rest of the
    suite runs `owasp`, see conftest), and the account logs in with it. A store of its own
    (SQLite: the hashing is the same code on either store)."""
    url = f"sqlite:///{tmp_path}/g.db"
    root = secrets.token_urlsafe(16)
    run_cli("init", "--root-password-stdin", data_dir=tmp_path, db_url=url, stdin=root + "\n")
    server = start_server(tmp_path, url, "sqlite", root, env={"GATEHOUSE_PASSWORD_HASHING": name})
    try:
        username, password = server.account()
        stored = server.sql("SELECT password_hash FROM users WHERE username = :u", u=username)[0][0]
        assert stored.startswith(PARAMETERS[name])
        response = httpx.get(
            f"{server.cpanel_url}/execute/DomainInfo/list_domains",
            auth=(username, password),
            timeout=30,
        )
        assert response.status_code == 200 and response.json()["status"] == 1
    finally:
        stop_server(server)


def test_a_server_without_the_setting_hashes_with_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No GATEHOUSE_PASSWORD_HASHING at all (the suite sets one: conftest): rfc9106, for the
    root password `init` hashes."""
    monkeypatch.delenv("GATEHOUSE_PASSWORD_HASHING")
    url = f"sqlite:///{tmp_path}/g.db"
    root = secrets.token_urlsafe(16)
    run_cli("init", "--root-password-stdin", data_dir=tmp_path, db_url=url, stdin=root + "\n")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT password_hash FROM users WHERE username = 'root'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert stored.startswith(PARAMETERS[passwords.DEFAULT_PROFILE])
