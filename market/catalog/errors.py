"""Catalog refusals, each with its stable code and HTTP status (the favourites service raises
them; the routes document them)."""

from __future__ import annotations

from kernel.errors import DomainError


class CompanionNotFound(DomainError):
    code = "companion_not_found"
    status = 404
    default_message = "no such companion"


class Blocked(DomainError):
    code = "blocked"
    status = 403
    default_message = "a block stands between you"


class TooManyFavourites(DomainError):
    code = "too_many_favourites"
    status = 409
    default_message = "you keep as many favourites as allowed"
