"""A typed route registry: every endpoint declares its body, query, response and errors as pydantic
models, is validated by one wrapper, and is described in the OpenAPI document generated from the
same declarations (never written by hand).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from aiohttp import web
from multidict import MultiMapping
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic.json_schema import models_json_schema

from kernel import safe_json
from kernel.cursor import CursorCodec
from kernel.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    MalformedJson,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from kernel.http.access import ANYONE, USERS, Access, auth_for

Auth = Literal["none", "optional", "user", "admin"]
_PATH_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_READ_CHUNK = 65_536
M = TypeVar("M", bound=BaseModel)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Principal(Protocol):
    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def session_id(self) -> str: ...


class Authenticator(Protocol):
    async def __call__(
        self, request: web.Request, *, unsafe: bool, optional: bool = False
    ) -> Principal | None:
        """The caller's principal, ``None`` if anonymous; raise on a bad token or CSRF.  On a
        route anyone may call (``optional``), a session cookie that no longer logs in reads as
        anonymous: a browser keeps the cookie of a login that ended (a refused login's appeal
        came from such a page)."""
        ...


AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
#: the one signed-cursor codec every paged list uses (``peiliao.cursor``)
CURSORS = web.AppKey("cursors", CursorCodec)


def path_params(path: str) -> list[str]:
    """The names of ``path``'s ``{parameters}``, in order."""
    return _PATH_PARAM.findall(path)


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler receives: the validated body and query, and the caller."""

    request: web.Request
    body: Any
    query: Any
    raw_body: bytes
    principal: Principal | None

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated()
        return self.principal


Handler = Callable[[Call], Awaitable[BaseModel | web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    auth: Auth
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[type[DomainError], ...]
    #: non-JSON request body types (e.g. image uploads); the handler reads ``call.raw_body``
    raw_body_types: tuple[str, ...] = ()
    #: non-JSON response type (e.g. ``image/webp``), for the OpenAPI document
    raw_response_type: str | None = None
    #: other media types the success answer may take besides JSON (``text/csv`` on request)
    alt_response_types: tuple[str, ...] = ()
    #: who may call it and whose resources its path ids name (``peiliao.http.access``)
    access: Access | None = None


#: built OpenAPI documents, by what they were built from (``Api.openapi``)
_OPENAPI_DOCS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _endpoint_key(ep: Endpoint) -> tuple[Any, ...]:
    """Everything of an endpoint its OpenAPI entry is made of (handlers are named, not compared:
    each app makes its own closures)."""
    return (
        ep.method,
        ep.path,
        ep.handler.__module__,
        ep.handler.__qualname__,
        ep.summary,
        ep.tags,
        ep.auth,
        ep.body,
        ep.query,
        ep.response,
        ep.status,
        ep.errors,
        ep.raw_body_types,
        ep.raw_response_type,
        ep.alt_response_types,
        None if ep.access is None else repr(ep.access.describe()),
    )


#: every endpoint mounted on an app
ENDPOINTS: web.AppKey[tuple[Endpoint, ...]] = web.AppKey("endpoints")


@dataclass
class Api:
    """Collects endpoints; :meth:`mount` adds them to an app, :meth:`openapi` describes them."""

    default_max_body_bytes: int = 1_048_576
    #: the limit for endpoints that take raw uploads (``raw_body_types``)
    upload_max_body_bytes: int = 2_097_152
    #: JSON bodies nested deeper than this are refused before validation (``malformed_json``)
    max_json_depth: int = safe_json.DEFAULT_MAX_DEPTH
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tags: Sequence[str] = (),
        auth: Auth | None = None,
        access: Access | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: Sequence[type[DomainError]] = (),
        raw_body_types: Sequence[str] = (),
        raw_response_type: str | None = None,
        alt_response_types: Sequence[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint.  ``access`` states who may call it (enforced here) and whose
        resources its path ids name; ``auth`` defaults to the login ``access`` implies, and a
        declaration that disagrees with an explicit ``auth`` is refused at import."""
        if access is not None:
            implied = auth_for(access)
            given = "optional" if auth == "none" else auth
            if given is not None and given != implied:
                raise ValueError(f"{method} {path}: auth={auth!r} disagrees with its access")
            unknown = set(access.owners) - set(_PATH_PARAM.findall(path))
            if unknown:
                raise ValueError(f"{method} {path}: access names no path parameter {unknown}")
        login: Auth = auth or (auth_for(access) if access is not None else "user")

        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method.upper(),
                    path,
                    handler,
                    summary,
                    tuple(tags),
                    login,
                    body,
                    query,
                    response,
                    status,
                    tuple(errors),
                    tuple(raw_body_types),
                    raw_response_type,
                    tuple(alt_response_types),
                    access,
                )
            )
            return handler

        return register

    def include(self, other: Api) -> None:
        self.endpoints.extend(other.endpoints)

    def mount(self, app: web.Application) -> None:
        # The table stays readable (tests/test_authorization.py walks every route of it).
        app[ENDPOINTS] = app.get(ENDPOINTS, ()) + tuple(self.endpoints)
        for ep in self.endpoints:
            app.router.add_route(ep.method, ep.path, self._wrap(ep), name=ep.handler.__name__)

    def _wrap(self, ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        limit = self.upload_max_body_bytes if ep.raw_body_types else self.default_max_body_bytes
        unsafe = ep.method not in ("GET", "HEAD", "OPTIONS")

        async def handle(request: web.Request) -> web.StreamResponse:
            if any("\x00" in v for v in request.match_info.values()):
                raise NotFound()  # no id holds a NUL, and PostgreSQL cannot even compare one
            principal = None
            if ep.auth != "none":
                principal = await request.app[AUTHENTICATOR](
                    request, unsafe=unsafe, optional=ep.auth == "optional"
                )
                if principal is None and ep.auth in ("user", "admin"):
                    raise Unauthenticated()
                if ep.auth == "admin" and principal is not None and principal.role != "admin":
                    raise Forbidden("admins only")
                if (
                    ep.access is not None
                    and principal is not None
                    and not ep.access.allows(principal.role)
                ):
                    raise ep.access.refuse()
            raw = b""
            body: Any = None
            if ep.body is not None or ep.raw_body_types:
                raw = await read_body(request, limit)
                if ep.raw_body_types:
                    if request.content_type not in ep.raw_body_types:
                        raise UnsupportedMediaType(f"send one of: {', '.join(ep.raw_body_types)}")
                else:
                    assert ep.body is not None
                    body = parse_json(
                        ep.body, request.content_type, raw, max_depth=self.max_json_depth
                    )
            query: Any = None
            if ep.query is not None:
                query = validate_query(ep.query, request.query)
            result = await ep.handler(Call(request, body, query, raw, principal))
            if isinstance(result, web.StreamResponse):
                return result
            return web.json_response(result.model_dump(mode="json"), status=ep.status, dumps=_dumps)

        handle.__name__ = ep.handler.__name__
        return handle

    # -- OpenAPI --------------------------------------------------------------------------------

    def openapi(self, *, title: str, version: str) -> dict[str, Any]:
        """The OpenAPI document of these endpoints.  Building it costs a quarter of a second
        (pydantic's JSON schemas), and every app of a process mounts the same endpoints, so the
        document is built once per set of endpoints and shared: treat it as read-only."""
        key = (title, version, tuple(_endpoint_key(ep) for ep in self.endpoints))
        doc = _OPENAPI_DOCS.get(key)
        if doc is None:
            doc = _OPENAPI_DOCS[key] = self._build_openapi(title=title, version=version)
        return doc

    def _build_openapi(self, *, title: str, version: str) -> dict[str, Any]:
        models: list[type[BaseModel]] = [ErrorBody]
        for ep in self.endpoints:
            models.extend(m for m in (ep.body, ep.query, ep.response) if m is not None)
        unique = list(dict.fromkeys(models))
        keyed, schema = models_json_schema(
            [(m, "validation") for m in unique], ref_template="#/components/schemas/{model}"
        )
        schemas = schema.get("$defs", {})

        def ref(model: type[BaseModel]) -> dict[str, Any]:
            return dict(keyed[(model, "validation")])

        paths: dict[str, dict[str, Any]] = {}
        for ep in self.endpoints:
            op: dict[str, Any] = {
                "operationId": ep.handler.__name__,
                "summary": ep.summary,
                "tags": list(ep.tags),
                "responses": {},
            }
            params = [
                {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                for n in _PATH_PARAM.findall(ep.path)
            ]
            if ep.query is not None:
                for name, info in ep.query.model_fields.items():
                    prop = ep.query.model_json_schema()["properties"][name]
                    params.append(
                        {
                            "name": name,
                            "in": "query",
                            "required": info.is_required(),
                            "schema": prop,
                        }
                    )
            if params:
                op["parameters"] = params
            if ep.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(ep.body)}},
                }
            elif ep.raw_body_types:
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        t: {"schema": {"type": "string", "format": "binary"}}
                        for t in ep.raw_body_types
                    },
                }
            if ep.response is not None:
                op["responses"][str(ep.status)] = {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": ref(ep.response)},
                        **{t: {"schema": {"type": "string"}} for t in ep.alt_response_types},
                    },
                }
            elif ep.raw_response_type is not None:
                op["responses"][str(ep.status)] = {
                    "description": "OK",
                    "content": {
                        ep.raw_response_type: {"schema": {"type": "string", "format": "binary"}}
                    },
                }
            else:
                op["responses"][str(ep.status)] = {"description": "OK"}
            error_types: list[type[DomainError]] = list(ep.errors)
            if ep.body is not None or ep.query is not None:
                error_types += [InvalidInput, MalformedJson, PayloadTooLarge, UnsupportedMediaType]
            if ep.auth in ("user", "admin"):
                error_types.append(Unauthenticated)
            if ep.auth == "admin":
                error_types.append(Forbidden)
            if ep.access is not None:
                op["x-access"] = ep.access.describe()
                if ep.access.callers not in (ANYONE, USERS):
                    error_types.append(ep.access.refuse)
            by_status: dict[int, list[str]] = {}
            for err in error_types:
                by_status.setdefault(err.status, [])
                if err.code not in by_status[err.status]:
                    by_status[err.status].append(err.code)
            for status, codes in sorted(by_status.items()):
                op["responses"][str(status)] = {
                    "description": "error: " + ", ".join(codes),
                    "content": {"application/json": {"schema": ref(ErrorBody)}},
                }
            if ep.auth in ("user", "admin"):
                op["security"] = [{"bearer": []}, {"cookie": []}]
            elif ep.auth == "optional":
                op["security"] = [{}, {"bearer": []}, {"cookie": []}]
            paths.setdefault(ep.path, {})[ep.method.lower()] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "peiliao_session"},
                },
            },
        }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes before reading them all."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit_bytes=limit)
    data = bytearray()
    while chunk := await request.content.read(_READ_CHUNK):
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"the body may be at most {limit} bytes", limit_bytes=limit)
    return bytes(data)


def parse_json(
    model: type[M], content_type: str, raw: bytes, *, max_depth: int = safe_json.DEFAULT_MAX_DEPTH
) -> M:
    """The body as ``model``: 415 for another content type, ``malformed_json`` for anything
    ``safe_json`` refuses (syntax, encoding, nesting, numbers), ``invalid_input`` after that."""
    if content_type != "application/json":
        raise UnsupportedMediaType("send Content-Type: application/json")
    try:
        data = safe_json.loads(raw, max_depth=max_depth)
    except ValueError as exc:
        raise MalformedJson(f"the request body is not JSON we accept: {exc}") from None
    return validate(model, data)


#: query values are text: the one spelling of each kind we accept (what ``String(v)`` and
#: ``URLSearchParams`` write); "30.0", " 5", "+5", "1_000", "1e3", "0x10", "yes" are refused
_QUERY_GRAMMAR = {
    "integer": re.compile(r"-?(?:0|[1-9][0-9]{0,39})"),
    "number": re.compile(r"-?(?:0|[1-9][0-9]{0,19})(?:\.[0-9]{1,20})?"),
    "boolean": re.compile(r"true|false"),
}


@functools.cache
def _query_kinds(model: type[BaseModel]) -> dict[str, str]:
    """Each query parameter's JSON type (``integer``, ``number``, ``boolean``; else text)."""
    kinds: dict[str, str] = {}
    for name, prop in model.model_json_schema()["properties"].items():
        types = {prop.get("type")} | {a.get("type") for a in prop.get("anyOf", [])}
        for kind in _QUERY_GRAMMAR:
            if kind in types:
                kinds[name] = kind
                break
    return kinds


def validate_query(model: type[M], query: Mapping[str, str]) -> M:
    """Validate query parameters: each given once, numbers and booleans in their one spelling
    (turned into values here), then the model's own rules."""
    kinds = _query_kinds(model)
    data: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for name in dict.fromkeys(query):
        values = query.getall(name) if isinstance(query, MultiMapping) else [query[name]]
        if len(values) > 1:
            problems.append({"loc": name, "type": "repeated", "msg": "give this parameter once"})
            continue
        value = values[0]
        kind = kinds.get(name)
        if kind is None:
            data[name] = value
        elif not _QUERY_GRAMMAR[kind].fullmatch(value):
            problems.append({"loc": name, "type": f"{kind}_parsing", "msg": f"not an {kind}"})
        elif kind == "integer":
            data[name] = int(value)
        elif kind == "number":
            data[name] = float(value)
        else:
            data[name] = value == "true"
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"invalid request at '{first['loc']}': {first['msg']}", problems=problems[:20]
        )
    return validate(model, data, strict=False)


def validate(model: type[M], data: Any, *, strict: bool | None = None) -> M:
    """Validate, turning pydantic's errors into :class:`InvalidInput` without echoing values."""
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        problems = [
            {"loc": ".".join(str(p) for p in e["loc"]), "type": e["type"], "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)[:20]
        ]
        first = problems[0] if problems else {"loc": "", "msg": "invalid"}
        where = f" at '{first['loc']}'" if first["loc"] else ""
        raise InvalidInput(f"invalid request{where}: {first['msg']}", problems=problems) from exc
