"""What the web client is built against, written as files it commits: the OpenAPI document
(``web_client/src/api/openapi.json``, from which ``schema.d.ts`` is generated) and every error code
the server can answer with (``error-codes.json``, each of which the client must word in zh and en).

``python -m peiliao.contract`` rewrites both; ``tests/web/test_contract.py`` fails when a committed
copy is stale.  Nothing here starts a server: the document comes from the app as ``create_app``
builds it, with default settings, and the codes from the source.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "web_client" / "src" / "api"
OPENAPI_FILE = OUT_DIR / "openapi.json"
CODES_FILE = OUT_DIR / "error-codes.json"

#: the packages of the server (the caller, a client, and the tests are not)
SERVER_PACKAGES = (
    "kernel",
    "store",
    "accounts",
    "moderation",
    "privacy",
    "audit",
    "metering",
    "media",
    "signaling",
    "market",
    "peiliao",
)
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
#: calls whose first argument (or ``code=``) is an error code: the error classes, the functions
#: that turn a rule's code into one (``refused``, ``refusal``) and Socket.IO's ``error`` answer
#: (a bare name: ``log.error("event", …)`` names a log event, not a code)
_CODE_TAKER = re.compile(r".*(?:Error|Refused|Rejected|Rates|Profile)$|refused|refusal")
_BARE_CODE_TAKER = "error"


def openapi_document() -> dict[str, Any]:
    """The document ``/api/openapi.json`` serves, built from an app with default settings."""
    from kernel.settings import Settings
    from peiliao.app import create_app
    from peiliao.keys import OPENAPI

    return create_app(Settings.from_env({}))[OPENAPI]


def _source_files() -> Iterator[Path]:
    for package in SERVER_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _callee(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _CODE.fullmatch(node.value) else None
    return None


def codes_in_source(tree: ast.AST) -> set[str]:
    """The error codes a module names: ``code = "…"`` in a class, the code given to an error
    class or a refusal (first argument or ``code=``), and ``{"code": "…"}`` in an answer."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "code" for t in stmt.targets
                ):
                    found.add(_literal(stmt.value) or "")
        elif isinstance(node, ast.Call):
            name = _callee(node)
            bare = isinstance(node.func, ast.Name) and name == _BARE_CODE_TAKER
            builtin = name in vars(builtins)  # AssertionError("unreachable") is no answer
            if (bare or (_CODE_TAKER.fullmatch(name) and not builtin)) and node.args:
                found.add(_literal(node.args[0]) or "")
            found.update(_literal(k.value) or "" for k in node.keywords if k.arg == "code")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if _literal(key) == "code":
                    found.add(_literal(value) or "")
    found.discard("")
    return found


def _domain_error_codes() -> set[str]:
    """``code`` of every ``DomainError`` subclass in the server's packages (imported here)."""
    from kernel.errors import CodedError, DomainError

    for package in SERVER_PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    found: set[str] = set()
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls not in (DomainError, CodedError) and "code" in vars(cls):
            found.add(cls.code)
        # codes chosen at run time from an enum (``CodedError.codes``)
        found |= {str(m.value) for m in vars(cls).get("codes", ())}
    return found


def error_codes() -> list[str]:
    """Every error code the server can answer with, sorted."""
    found = _domain_error_codes()
    for path in _source_files():
        found |= codes_in_source(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return sorted(found)


def render() -> dict[Path, str]:
    """Each file's text as it should be committed."""
    doc = json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    codes = json.dumps(error_codes(), ensure_ascii=False, indent=2) + "\n"
    return {OPENAPI_FILE: doc, CODES_FILE: codes}


def main() -> int:
    for path, text in render().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
