"""The shape the README promises, checked: the import contracts (``[tool.importlinter]`` in
pyproject.toml: layers, the marketplace's independence, the caller as a client, pure rules with
no I/O) hold, and the one list of packages there names every package folder, mypy's list and
the package discovery agree with it; each package has one ``setup()`` and its AppKeys in its
``keys.py``; the composition root only calls the setups."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


# caller is a client, peiliao the root; media is the relay signaling's setup builds (it has no
# state, routes or workers of its own on the app)
SET_UP = [p for p in PACKAGES if p not in ("caller", "peiliao", "media")]
MARKET = sorted(p.parent.name for p in (ROOT / "market").glob("*/__init__.py"))


@pytest.mark.parametrize("module", [*SET_UP, *(f"market.{d}" for d in MARKET)])
def test_each_package_has_one_setup(module: str) -> None:
    """Each package (and each marketplace domain) registers itself with one ``setup(app, …)``."""
    setup = importlib.import_module(f"{module}.setup").setup
    assert next(iter(inspect.signature(setup).parameters)) == "app"


def test_the_composition_root_only_calls_setups() -> None:
    """``create_app`` reads as a table of contents: no nested functions, no hooks, short."""
    source = (ROOT / "peiliao" / "app.py").read_text()
    assert len(source.splitlines()) <= 250
    create_app = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.FunctionDef) and n.name == "create_app"
    )
    nested = [n for n in ast.walk(create_app) if isinstance(n, ast.AsyncFunctionDef | ast.Lambda)]
    assert not nested
    assert not [n for n in ast.walk(create_app) if isinstance(n, ast.FunctionDef)][1:]


# The HTTP kit's own keys (the authenticator, the cursors, the endpoint table, telemetry) stay
# beside the code that reads them.
KIT_KEYS = {"kernel/http/api.py", "kernel/http/middleware.py"}


def test_app_keys_live_in_keys_modules() -> None:
    """State is found under the owning package's ``keys.py``, never in a routes module."""
    stray = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "web.AppKey(" in path.read_text()
        and path.name != "keys.py"
        and str(path.relative_to(ROOT)) not in KIT_KEYS
    ]
    assert not stray
