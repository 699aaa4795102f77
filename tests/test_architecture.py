"""The shape the README promises, checked: the import contracts (``[tool.importlinter]`` in
pyproject.toml: layers, the marketplace's independence, the caller as a client, pure rules with
no I/O) hold, and the one list of packages there names every package folder, mypy's list and
the package discovery agree with it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES: list[str] = CONFIG["tool"]["importlinter"]["root_packages"]
NOT_SERVED = {"tests", "bench"}  # top-level folders with Python that are not packages we ship


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_one_list_names_every_package_folder() -> None:
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_SERVED}
    assert folders == set(PACKAGES), "add the package to [tool.importlinter] root_packages"
    assert len(PACKAGES) == len(set(PACKAGES))


def test_mypy_checks_every_package() -> None:
    assert set(CONFIG["tool"]["mypy"]["files"]) == set(PACKAGES) | {"bench"}


def test_every_package_is_contracted() -> None:
    """Each package sits in the layers contract or in a contract of its own."""
    named = " ".join(
        " ".join(c.get("layers", []) + c.get("source_modules", []))
        for c in CONFIG["tool"]["importlinter"]["contracts"]
    )
    for package in PACKAGES:
        assert package in named.replace("|", " ").split() or any(
            word.startswith(package + ".") for word in named.split()
        ), package
