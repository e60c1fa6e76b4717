"""Data access: small functions taking the session first; they add and flush, never commit."""
