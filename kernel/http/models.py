"""The request models' base and its field markers: strict values, no coercion, no NUL, integer
choices and ranges that document exactly what the server enforces.  Pure (pydantic only), so
protocol and rule modules may build on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from kernel.errors import CodedError


class Strict(BaseModel):
    """Base for request payloads (HTTP bodies and queries, Socket.IO events): unknown fields are
    refused, values are not coerced (no ``30.0`` or ``true`` for an integer, no ``"5"``), floats
    are finite, and no text holds a NUL character (PostgreSQL cannot store one: it would be a 500
    at the first write or even a lookup).

    Subclasses do not loosen this: no ``model_config`` of their own, no ``strict=False`` field.
    A choice among integers is ``Annotated[int, OneOf(...)]``, never ``Literal[30, 60]``, which
    takes ``30.0`` and ``True`` because they compare equal (a test walks every model for both).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if _holds_nul(data):
            raise ValueError("text may not contain NUL characters")
        return data


def _holds_nul(data: Any) -> bool:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


@dataclass(frozen=True, slots=True)
class OneOf:
    """``Annotated[int, OneOf((30, 60, 90, 120))]``: a strict integer among ``values``,
    documented as an integer ``enum`` in the OpenAPI document."""

    values: tuple[int, ...]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        allowed = frozenset(self.values)
        shown = ", ".join(str(v) for v in sorted(allowed))

        def check(value: int) -> int:
            if value not in allowed:
                raise ValueError(f"must be one of {shown}")
            return value

        return core_schema.no_info_after_validator_function(
            check, core_schema.int_schema(strict=True)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "integer", "enum": sorted(self.values)}


@dataclass(frozen=True, slots=True)
class Within:
    """``Annotated[int, Within(low, high, code)]``: a strict integer in ``low..high``, documented
    as the OpenAPI ``minimum``/``maximum`` and enforced by the same declaration.  Give the
    bounds the service enforces (its constants), so the document never promises more or less
    than the server takes; with ``code`` a value outside is refused with the domain's own code
    (``capacity_out_of_bounds``, with ``min``/``max`` details) rather than ``invalid_input``.

    ``enforce=False`` is for bounds that depend on who asks (a companion's rates: their level
    narrows the widest bounds): the document states the widest, the service refuses with the
    caller's own (it must check every value; nothing outside the widest bounds passes it).
    """

    low: int
    high: int
    code: str | None = None
    what: str = "the value"
    enforce: bool = True

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        low, high, code, what = self.low, self.high, self.code, self.what
        if not self.enforce:
            return core_schema.int_schema(strict=True)

        def check(value: int) -> int:
            if low <= value <= high:
                return value
            message = f"{what} must be {low}..{high}"
            if code is None:
                raise ValueError(message)
            # not a ValueError: pydantic lets it through, and the error middleware (or the
            # Socket.IO wrapper) answers with the domain's code
            raise CodedError(code, message, min=low, max=high)

        return core_schema.no_info_after_validator_function(
            check, core_schema.int_schema(strict=True)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}
