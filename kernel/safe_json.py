"""JSON from strangers: every way a document can be hostile ends in one ``ValueError``.

The standard library's ``json.loads`` recurses once per nesting level (1,000 ``[`` raise
``RecursionError``, which is not a ``ValueError``) and turns a 5,000-digit number into
``ValueError: Exceeds the limit`` only after the work; both reached the error middleware as a
500.  Here the document is parsed by pydantic-core's parser (jiter: iterative, refuses more
than 200 levels and integers longer than Python's 4,300-digit limit, refuses ``NaN``, lone
surrogates and invalid UTF-8), then walked once without recursion to refuse nesting deeper than
``max_depth``, so a deep-but-parseable document costs no more than reading it.

Used by the HTTP API (``peiliao.http.api.parse_json``) and, through :class:`JsonModule`, by
python-socketio and python-engineio for every packet.  Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic_core

#: the default nesting limit; no request body or event payload of ours nests deeper than 4
DEFAULT_MAX_DEPTH = 32


class JsonRefused(ValueError):
    """The text is not JSON we accept (syntax, encoding, numbers, nesting)."""


def loads(text: str | bytes | bytearray, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The document in ``text``; :class:`JsonRefused` (a ``ValueError``) for anything else.

    Numbers too large for a float (``1e400``) are refused too, instead of becoming infinity.
    """
    try:
        data = pydantic_core.from_json(text, allow_inf_nan=False)
    except ValueError as exc:
        raise JsonRefused(str(exc)) from None
    check_tree(data, max_depth)
    return data


def check_tree(data: Any, max_depth: int) -> None:
    """Refuse a decoded document nested deeper than ``max_depth`` containers, or one holding a
    non-finite float; iterative, so the depth costs no stack."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            if isinstance(node, float) and not math.isfinite(node):  # 1e400 parses to inf
                raise JsonRefused("numbers must be finite")
            continue
        if depth >= max_depth:
            raise JsonRefused(f"the document nests deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


class JsonModule:
    """A ``json``-module look-alike for python-socketio/engineio (``AsyncServer(json=...)``):
    ``loads`` is :func:`loads`, so a hostile packet raises ``ValueError`` like any bad packet."""

    def __init__(self, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.max_depth = max_depth

    def loads(self, text: str | bytes, **_: Any) -> Any:
        return loads(text, max_depth=self.max_depth)

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, **kwargs)
