"""``peiliao moderate``: one JSON line per input line, in-process and as a real process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.cli import moderate
from moderation.detect import Policy

PEILIAO = str(Path(sys.executable).parent / "peiliao")
LINES = [
    "我的电话 138 1234 5678",
    "今天好开心",
    "身份证 11010519491231002X",
    "我们见面吧",
    "",
]


def test_one_json_line_per_input_line() -> None:
    out = io.StringIO()
    data = "\n".join(LINES).encode() + b"\n\xff\xfe broken utf-8\r\n"
    count = moderate(io.BytesIO(data).readlines(), out, policy=Policy(), with_text=True)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(rows) == len(LINES) + 1
    assert [(r["action"], r["categories"]) for r in rows] == [
        ("mask", ["phone"]),
        ("allow", []),
        ("block", ["id_card"]),
        ("review", ["offline_meeting"]),
        ("allow", []),
        ("allow", []),
    ]
    assert rows[0]["text"] == "我的电话 ****"
    assert rows[5]["text"] == "\ufffd\ufffd broken utf-8"


def test_window_reads_lines_as_one_senders_messages() -> None:
    out = io.StringIO()
    moderate([b"138\n", b"1234\n", b"5678\n"], out, policy=Policy(), window=True)
    assert [json.loads(r)["action"] for r in out.getvalue().splitlines()] == [
        "allow",
        "allow",
        "mask",
    ]
    assert "text" not in json.loads(out.getvalue().splitlines()[0])


def test_a_companion_sender_adds_the_warning() -> None:
    out = io.StringIO()
    moderate(["加我微信\n".encode()], out, policy=Policy(), sender_role="companion")
    assert json.loads(out.getvalue()) == {
        "action": "review",
        "categories": ["contact_request"],
        "warn_receiver": True,
    }


@pytest.mark.timeout(60)
def test_the_command() -> None:
    done = subprocess.run(
        [PEILIAO, "moderate", "--policy", "phone=block"],
        input="\n".join(LINES[:4]) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["action"] for r in rows] == ["block", "allow", "block", "review"]
    assert all(set(r) == {"action", "categories"} for r in rows)
    bad = subprocess.run(
        [PEILIAO, "moderate", "--policy", "phone=ban"], input="", capture_output=True, text=True
    )
    assert bad.returncode == 1 and "bad policy item" in bad.stderr


def test_flags_and_priority_are_written_when_there_are_any() -> None:
    out = io.StringIO()
    lines = ["我才初二\n".encode(), "我们见面吧\n".encode(), "今天好开心\n".encode()]
    moderate(lines, out, policy=Policy(), window=True)
    rows = [json.loads(r) for r in out.getvalue().splitlines()]
    assert rows[0] == {"action": "review", "categories": ["minor"], "flags": ["minor"]}
    assert rows[1]["action"] == "block" and rows[1]["priority"] == "high"
    assert rows[2] == {"action": "allow", "categories": []}
