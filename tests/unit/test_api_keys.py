"""API keys: random, hashed with a pepper, compared in constant time."""

from tarroitus.services.api_keys import generate_api_key, hash_api_key, hashes_match, key_id_for


def test_generate_api_key_is_random_and_prefixed() -> None:
    # Given / When
    keys = {generate_api_key() for _ in range(100)}
    # Then
    assert len(keys) == 100
    assert all(key.startswith("trt_") and len(key) == 47 for key in keys)


def test_hash_api_key_depends_on_the_pepper() -> None:
    # Given
    key = generate_api_key()
    # When
    first, same, other = hash_api_key(key, "p1"), hash_api_key(key, "p1"), hash_api_key(key, "p2")
    # Then
    assert first == same != other
    assert key not in first
    assert hashes_match(first, same)
    assert not hashes_match(first, other)
    assert key_id_for(first) == first[:12]
