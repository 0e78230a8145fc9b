"""The docs are generated from nowhere, so a test keeps them in step with the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatehouse import acls
from gatehouse.config import SETTINGS
from gatehouse.whm.functions import load_all
from gatehouse.whm.registry import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
load_all()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_in_the_readme(setting: object) -> None:
    assert f"`{setting.env}`" in (ROOT / "README.md").read_text()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(REGISTRY.functions))
def test_every_function_is_documented(name: str) -> None:
    assert f"`{name}`" in (ROOT / "docs" / "api.md").read_text()


@pytest.mark.parametrize("name", sorted(REGISTRY.functions))
def test_every_function_declares_known_privileges(name: str) -> None:
    for privilege in REGISTRY.functions[name].privileges:
        assert acls.canonical(privilege) == privilege


def test_the_catalogue_has_cpanels_twenty_initial_privileges() -> None:
    assert len(acls.DEFAULT_RESELLER_ACLS) == 20
    assert all(acls.BY_NAME[n].category == "basicprivileges" for n in acls.DEFAULT_RESELLER_ACLS)


def test_the_readme_function_table_is_generated_from_the_registry() -> None:
    from gatehouse.whm import catalogue

    readme = (ROOT / "README.md").read_text()
    assert catalogue.render(readme) == readme, "run `make docs` to regenerate the README table"
