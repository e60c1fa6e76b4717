"""API keys: generated once, shown once, stored only as a keyed hash (HMAC-SHA256 with a server pepper).

Keys carry 256 bits of randomness, so a keyed fast hash is enough: nobody can guess one, and a
leaked table is useless without the pepper. The hash is deterministic, so it doubles as the
look-up key, which also lets an administrator adopt the keys existing printer stations already use.
"""

import hashlib
import hmac
import secrets

KEY_PREFIX = "trt_"
KEY_ID_LENGTH = 12


def generate_api_key() -> str:
    """A new random key (`trt_` + 43 url-safe characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str, pepper: str) -> str:
    """The stored form of `api_key`."""
    return hmac.new(pepper.encode("utf-8"), api_key.encode("utf-8"), hashlib.sha256).hexdigest()


def key_id_for(key_hash: str) -> str:
    """A short public identifier of a key, safe to show and log."""
    return key_hash[:KEY_ID_LENGTH]


def hashes_match(presented_hash: str, stored_hash: str) -> bool:
    """Constant-time comparison of two key hashes."""
    return hmac.compare_digest(presented_hash, stored_hash)
