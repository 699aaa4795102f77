"""Encryption at rest for personal data (real names, ID numbers, call evidence): AES-256-GCM from
``cryptography``, a fresh 96-bit nonce per value, and the key id stored with each value so keys
can rotate: ``<key id>:<base64(nonce + ciphertext + tag)>``.  Each value is bound to its owner
and field by the associated data, so a sealed ID number cannot be copied onto another user.

Keys: ``PEILIAO_DATA_KEYS`` (``id:base64key,…``, 32-byte keys) and ``PEILIAO_DATA_KEY_ID`` (the
one new values use; the others still open old values).  In dev, with none configured, one key
is derived from the server secret (never in prod: settings refuse to start without keys).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SealError(ValueError):
    """A sealed value that cannot be opened: unknown key, tampered, or another owner's."""


class Sealer:
    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"the active data key {active!r} is not among the keys")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"data key {kid!r} must be 32 bytes")
            if ":" in kid:
                raise ValueError("a data key id cannot contain ':'")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    @classmethod
    def from_settings(cls, settings: object) -> Sealer:
        spec = str(getattr(settings, "data_keys", "") or "")
        if not spec:
            secret = str(getattr(settings, "secret_key", ""))
            derived = hmac.new(secret.encode(), b"peiliao data key v1", hashlib.sha256).digest()
            return cls({"dev": derived}, "dev")
        keys = {}
        for part in spec.split(","):
            kid, _, b64 = part.strip().partition(":")
            keys[kid] = base64.b64decode(b64)
        return cls(keys, str(getattr(settings, "data_key_id", "") or next(iter(keys))))

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.active].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def seal_bytes(self, data: bytes, context: str) -> bytes:
        """``data`` sealed as ``<key id>:`` + nonce + ciphertext + tag (for files: evidence),
        bound to ``context`` like ``seal``."""
        nonce = os.urandom(12)
        sealed = self._keys[self.active].encrypt(nonce, data, context.encode())
        return self.active.encode() + b":" + nonce + sealed

    def open_bytes(self, blob: bytes, context: str) -> bytes:
        kid, sep, raw = blob.partition(b":")
        aead = self._keys.get(kid.decode(errors="replace")) if sep else None
        if aead is None:
            raise SealError(f"sealed with key {kid[:16]!r}, which is not configured")
        try:
            return aead.decrypt(raw[:12], raw[12:], context.encode())
        except Exception:
            raise SealError("the value was altered or belongs elsewhere") from None

    def open(self, token: str, context: str) -> str:
        kid, _, b64 = token.partition(":")
        aead = self._keys.get(kid)
        if aead is None:
            raise SealError(f"sealed with key {kid!r}, which is not configured")
        raw = base64.b64decode(b64)
        try:
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except Exception:
            raise SealError("the value was altered or belongs elsewhere") from None
