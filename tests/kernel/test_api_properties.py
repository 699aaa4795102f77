"""Property-based tests of the whole HTTP API, generated from its own OpenAPI document by
Schemathesis: valid and invalid requests for every operation, sent anonymously, as a customer
and as an admin (bearer tokens) to a real ``peiliao serve`` on SQLite.  No answer is a 5xx,
every status is one the document lists for the operation, and every answer matches its schema.

The budget is small (a few examples per operation and mode, no shrinking, derandomized so a
failure reproduces); run with ``PEILIAO_TEST_API_EXAMPLES=50`` for a longer search.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.timeout(120)
PEILIAO = str(Path(sys.executable).parent / "peiliao")
EXAMPLES = int(os.environ.get("PEILIAO_TEST_API_EXAMPLES", "2"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: these end the caller's own login or account: sent anonymously only
ANONYMOUS_ONLY = {
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/logout-all"),
    ("DELETE", "/api/me"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.load(r)


def _login(base: str, phone: str) -> str:
    s = requests.Session()
    assert s.post(f"{base}/api/auth/sms-code", json={"phone": phone}, timeout=5).ok
    code = s.get(f"{base}/api/dev/sms-outbox", params={"phone": phone}, timeout=5).json()
    login = s.post(
        f"{base}/api/auth/login",
        json={"phone": phone, "code": code["messages"][0]["code"], "client": "cli"},
        timeout=5,
    )
    assert login.ok, login.text
    token: str = login.json()["token"]
    return token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real server (dev, SQLite) and bearer tokens of a customer and an admin."""
    home = tmp_path_factory.mktemp("api")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEILIAO_")}
    env |= {
        "PEILIAO_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'api.db'}",
        "PEILIAO_WEB_DIST_DIR": "/nonexistent",
        "PEILIAO_LOG_LEVEL": "WARNING",
    }
    subprocess.run([PEILIAO, "db", "upgrade"], env=env, cwd=home, check=True, capture_output=True)
    admin_phone = "13700000009"
    subprocess.run(
        [PEILIAO, "admin", "create", "--phone", admin_phone],
        env=env,
        cwd=home,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [PEILIAO, "serve", "--workers", "1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                assert proc.poll() is None, (home / "serve.log").read_text()
                assert time.monotonic() < deadline, "server did not come up in 30 s"
                time.sleep(0.2)
        yield {
            "base": base,
            "doc": _get(f"{base}/api/openapi.json"),
            "customer": _login(base, "13700000008"),
            "admin": _login(base, admin_phone),
            "log": home / "serve.log",
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def explore(
    cases: Any,
    base: str,
    label: str,
    sessions: dict[str, requests.Session],
    failures: list[str],
) -> None:
    """Send each generated case as each identity; record the first finding of each case."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def check(case: schemathesis.Case) -> None:
        for who, session in sessions.items():
            try:
                case.call_and_validate(base_url=base, session=session, checks=CHECKS, timeout=10)
            except (Exception, FailureGroup) as exc:  # collected, all reported at the end
                failures.append(f"{label}, {who}]: {str(exc).strip()[:600]}")
                return

    check()


def test_every_operation_answers_within_its_document(server: dict[str, Any]) -> None:
    base = server["base"]
    schema = schemathesis.openapi.from_dict(server["doc"])
    # uploads (avatars, voice samples, certificates) are raw bytes of their media type
    raw_types = {
        media
        for ops in server["doc"]["paths"].values()
        for op in ops.values()
        for media, body in op.get("requestBody", {}).get("content", {}).items()
        if body["schema"].get("format") == "binary"
    }
    schemathesis.serializer.alias(sorted(raw_types), "application/octet-stream")
    sessions = {"anonymous": requests.Session()}
    for who in ("customer", "admin"):
        sessions[who] = requests.Session()
        sessions[who].headers["Authorization"] = f"Bearer {server[who]}"
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 80
    for operation in operations:
        identities = {"anonymous": sessions["anonymous"]}
        if (operation.method.upper(), operation.path) not in ANONYMOUS_ONLY:
            identities = sessions
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.method.upper()} {operation.path} [{mode.value}"
            try:
                explore(
                    operation.as_strategy(generation_mode=mode), base, label, identities, failures
                )
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no input at all)
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} findings:\n\n" + "\n\n".join(failures)
    assert "Traceback" not in server["log"].read_text()
    print(f"{len(operations)} operations in {elapsed:.1f} s")
