"""Custody: where credentials go (encrypted), what is never written, and proof they work."""
