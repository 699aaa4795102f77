"""``peiliao seed --demo`` gives the demo companions the profile an approval would write."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.kernel.test_cli import env, run

__all__ = ["env"]
pytestmark = pytest.mark.timeout(90)


def test_demo_companions_get_profiles_once(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["db", "upgrade"], env).returncode == 0
    first = run(["seed", "--demo"], env)
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert [c["specialties"] for c in made["companions"]] == [
        ["情感倾诉", "心理咨询", "才艺"],
        ["游戏陪玩", "闲聊"],
        ["外语陪练", "考研辅导", "职场咨询"],
    ]
    db = tmp_path / "var" / "cli.db"
    with sqlite3.connect(db) as conn:
        approved = conn.execute("SELECT user_id, approved_at FROM companion_profiles").fetchall()
    assert run(["seed", "--demo"], env).returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT user_id, approved_at FROM companion_profiles").fetchall() == (
            approved
        )
        rows = conn.execute(
            "SELECT p.user_id, p.specialties, p.certified, p.intro, p.approved_at, r.specialist "
            "FROM companion_profiles p JOIN companion_rates r ON r.user_id = p.user_id "
            "JOIN users u ON u.id = p.user_id ORDER BY u.phone"
        ).fetchall()
    assert [r[0] for r in rows] == [c["id"] for c in made["companions"]]
    assert [json.loads(r[2]) for r in rows] == [["心理咨询"], [], ["外语陪练"]]
    assert [bool(r[5]) for r in rows] == [True, False, True]
    assert all(20 <= len(r[3]) <= 500 and r[4] for r in rows)
