"""Passphrases the client never has to invent: long, random, and inside the exchange's rules."""

from __future__ import annotations

import secrets
import string

SPECIALS = "!@#$%^&*-_=+"


def generate(min_len: int = 24, max_len: int = 32) -> str:
    """24-32 characters with every class the rules ask for, shuffled by `secrets`."""
    length = min_len + secrets.randbelow(max_len - min_len + 1)
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, SPECIALS]
    chars = [secrets.choice(p) for p in pools]
    alphabet = "".join(pools)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    for i in range(len(chars) - 1, 0, -1):  # Fisher-Yates with a CSPRNG
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)
