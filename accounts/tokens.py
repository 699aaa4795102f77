"""Opaque session tokens and the CSRF token bound to each session.

A token is 256 random bits; only its SHA-256 is stored, so a database leak yields no usable
token.  Revocation is a row update, effective on the next request.  The CSRF token is an HMAC of
the session id under the server secret: derivable by the server, unguessable by a cross-site
attacker, and dead with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_id(prefix: str) -> str:
    """A random, non-sequential id such as ``u_3f9c…`` (leaks no counts)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret_key: str, session_id: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret_key: str, session_id: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(secret_key, session_id), presented)
