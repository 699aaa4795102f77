"""The shape the README promises: pure rule modules import no I/O, and no domain imports the
composition root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = [
    "accounts",
    "store",
    "signaling",
    "media",
    "metering",
    "moderation",
    "catalog",
    "privacy",
    "audit",
    "vetting",
    "reviews",
    "bookings",
    "appeals",
    "support",
    "voicerooms",
]
PURE_MODULES = [
    "accounts/phone.py",
    "accounts/sms_policy.py",
    "accounts/profile.py",
    "accounts/roles.py",
    "accounts/tokens.py",
    "accounts/ids.py",
    "peiliao/settings.py",
    "signaling/lifecycle.py",
    "signaling/protocol.py",
    "peiliao/errors.py",
    "moderation/normalize.py",
    "moderation/numbers.py",
    "moderation/cues.py",
    "moderation/window.py",
    "moderation/detect.py",
    "vetting/specialties.py",
    "vetting/uploads.py",
    "vetting/checklist.py",
    "vetting/levels.py",
    "reviews/rules.py",
    "reviews/visibility.py",
    "peiliao/http/access.py",
    "peiliao/cursor.py",
    "catalog/ranking.py",
    "catalog/recommend.py",
    "appeals/rules.py",
    "support/rules.py",
    "bookings/calendar.py",
    "bookings/rules.py",
    "bookings/errors.py",
    "voicerooms/ids.py",
    "voicerooms/rules.py",
    "voicerooms/errors.py",
]
IO_MODULES = {
    "asyncio",
    "aiohttp",
    "sqlalchemy",
    "socketio",
    "engineio",
    "redis",
    "aiortc",
    "asyncpg",
    "aiosqlite",
    "store",
    "socket",
    "time",
    "requests",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_import_no_io(module: str) -> None:
    roots = {name.split(".")[0] for name in imports_of(ROOT / module)}
    assert not (roots & IO_MODULES), f"{module} imports {roots & IO_MODULES}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_domains_do_not_import_the_composition_root(domain: str) -> None:
    for path in (ROOT / domain).rglob("*.py"):
        bad = {n for n in imports_of(path) if n in ("peiliao.app", "peiliao.cli")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_store_imports_no_domain() -> None:
    for path in (ROOT / "store").rglob("*.py"):
        roots = {n.split(".")[0] for n in imports_of(path)}
        assert not (roots & {"accounts", "signaling", "media", "metering", "peiliao"}), path
