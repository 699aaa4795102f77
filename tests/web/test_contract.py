"""The web client's committed copies of the server's contract are current: the OpenAPI document its
types are generated from (``web_client/src/api/schema.d.ts``, checked by ``npm test``) and the
list of error codes it words (``src/lib/errors.test.ts``).  Regenerate with
``python -m peiliao.contract`` and ``cd web_client && npm run api:types``."""

from __future__ import annotations

import ast
import json
import re

import pytest

from peiliao import contract

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {path.name: text for path, text in contract.render().items()}


@pytest.mark.parametrize("name", ["openapi.json", "error-codes.json"])
def test_committed_copy_is_current(rendered: dict[str, str], name: str) -> None:
    committed = (contract.OUT_DIR / name).read_text(encoding="utf-8")
    assert committed == rendered[name], (
        f"web_client/src/api/{name} is stale: run `python -m peiliao.contract` "
        "and `cd web_client && npm run api:types`, then commit the result"
    )


def test_every_documented_error_code_is_listed(rendered: dict[str, str]) -> None:
    doc = json.loads(rendered["openapi.json"])
    documented: set[str] = set()
    for operations in doc["paths"].values():
        for op in operations.values():
            for answer in op["responses"].values():
                described = re.fullmatch(r"error: (.*)", answer["description"])
                if described:
                    documented.update(described.group(1).split(", "))
    assert documented, "the document names no error codes any more: update this test"
    # a class whose code is chosen where it is raised (``CodedError``'s kin) is documented by
    # its base's placeholder; its real codes are found in the source
    documented.discard("error")
    assert documented <= set(json.loads(rendered["error-codes.json"]))


def test_codes_are_found_wherever_a_module_names_them() -> None:
    source = """
class Late(DomainError):
    code = "too_late"
raise CodedError("coded", "m")
raise RoomRuleError("rule_code", "m")
raise errors.refusal("refusal_code", "m")
raise Within(1, 2, code="bounded")
reply = {"error": {"code": "in_answer", "message": "m"}}
log.info("not_a_code", text="x")
log.error("not_a_code_either", sessions=3)
return error("ack_code", "m")
raise AssertionError("unreachable")
raise CodedError(variable, "m")
"""
    assert contract.codes_in_source(ast.parse(source)) == {
        "too_late",
        "coded",
        "rule_code",
        "refusal_code",
        "bounded",
        "in_answer",
        "ack_code",
    }
