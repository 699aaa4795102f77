"""The ``peiliao`` command, run as a real process, as a person or ``make run`` would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(90)
PEILIAO = str(Path(sys.executable).parent / "peiliao")


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PEILIAO, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PEILIAO_")}
    clean["PEILIAO_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'cli.db'}"
    clean["PEILIAO_WORKERS"] = "1"  # serve --workers is tests/kernel/test_workers.py's
    return clean


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["db", "revision"],
        ["admin"],
        ["admin", "create"],
        ["seed"],
    ],
)
def test_every_command_has_help(args: list[str], env: dict[str, str]) -> None:
    result = run([*args, "--help"], env)
    assert result.returncode == 0
    assert "usage: peiliao" in result.stdout


def test_upgrade_seed_and_admin_create(env: dict[str, str]) -> None:
    up = run(["db", "upgrade"], env)
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout.strip().splitlines()[-1])["revision"]

    first = run(["seed", "--demo"], env)
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert [c["phone"] for c in made["customers"]] == ["13800000001"]
    assert [c["phone"] for c in made["companions"]] == ["13900000001", "13900000002", "13900000003"]
    assert all(c["created"] for c in made["companions"])
    assert made["customers"][0]["balance_fen"] == 10_000
    assert {c["rates_fen_per_min"]["voice"] for c in made["companions"]} == {300, 150, 400}
    assert len({tuple(c["tags"]) for c in made["companions"]}) == 3
    again = json.loads(run(["seed", "--demo"], env).stdout)
    assert not any(c["created"] for c in again["customers"] + again["companions"])
    assert again["customers"][0]["balance_fen"] == 10_000  # seeding twice credits once
    assert [c["id"] for c in again["companions"]] == [c["id"] for c in made["companions"]]

    admin = run(["admin", "create", "--phone", "+86 137 0000 0000"], env)
    assert admin.returncode == 0, admin.stderr
    assert json.loads(admin.stdout) | {"id": "x"} == {
        "id": "x",
        "phone": "13700000000",
        "role": "admin",
        "created": True,
    }
    bad = run(["admin", "create", "--phone", "12345"], env)
    assert bad.returncode != 0 and "not a mainland mobile number" in bad.stderr


def test_ledger_check_passes_after_seeding_and_fails_on_corruption(
    env: dict[str, str], tmp_path: Path
) -> None:
    import sqlite3

    assert run(["db", "upgrade"], env).returncode == 0
    assert run(["seed", "--demo"], env).returncode == 0
    ok = run(["ledger", "check"], env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    with sqlite3.connect(tmp_path / "var" / "cli.db") as conn:
        conn.execute(
            "UPDATE ledger_accounts SET balance_fen = balance_fen + 1 WHERE kind = 'wallet'"
        )
    bad = run(["ledger", "check"], env)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert "balance_matches_entries" in {v["rule"] for v in report["violations"]}


def test_commands_refuse_a_database_that_is_not_upgraded(env: dict[str, str]) -> None:
    result = run(["seed", "--demo"], env)
    assert result.returncode != 0 and "peiliao db upgrade" in result.stderr


def test_prod_with_dev_defaults_refuses_to_start(env: dict[str, str]) -> None:
    result = run(["serve"], {**env, "PEILIAO_ENV": "prod"})
    assert result.returncode != 0
    assert "refusing to start in prod" in result.stderr and "PEILIAO_SECRET_KEY" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_healthz_and_stops_on_sigterm(env: dict[str, str]) -> None:
    assert run(["db", "upgrade"], env).returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [PEILIAO, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200 and json.load(r) == {"status": "ok"}
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "server did not come up in 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            assert json.load(r)["database"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_serve_refuses_an_unmigrated_database(env: dict[str, str]) -> None:
    result = run(["serve", "--port", str(free_port())], env, timeout=30)
    assert result.returncode != 0
    assert "peiliao db upgrade" in result.stderr


def test_serve_from_another_folder_serves_the_built_client(
    env: dict[str, str], tmp_path: Path
) -> None:
    """No PEILIAO_WEB_DIST_DIR and another working directory: the checkout's web_client/dist
    is served (a cwd-relative default answered 503 there)."""
    dist = Path(__file__).resolve().parents[2] / "web_client" / "dist"
    if not (dist / "index.html").is_file():
        if os.environ.get("PEILIAO_REQUIRE_SERVICES"):
            pytest.fail("this test needs a built web client (make web)")
        pytest.skip("no web_client/dist")
    assert run(["db", "upgrade"], env).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [PEILIAO, "serve", "--port", str(port)],
        env=env,
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200 and '<div id="app">' in r.read().decode()
                    break
            except urllib.error.HTTPError as exc:
                pytest.fail(f"/ answered {exc.code}: {exc.read().decode()[:200]}")
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "server did not come up in 30 s"
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
