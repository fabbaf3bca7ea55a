"""统一社会信用代码 (the unified social credit code, GB 32100-2015): the 18 characters that
name a market entity (被投诉对象) whatever its registry, the last one a check character, so a
mistyped code is refused when it is entered, not found missing from a report."""

from __future__ import annotations

CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The code's 31 characters, valued 0 … 30 in this order: digits and capital letters but
I, O, Z, S and V."""
LENGTH = 18
WEIGHTS = [3**position % 31 for position in range(LENGTH - 1)]
"""The weight of each of the first 17 characters: 3 to the power of its position, modulo 31."""


def check_character(first: str) -> str:
    """The check character of a code's first 17 characters."""
    total = sum(CHARACTERS.index(c) * w for c, w in zip(first, WEIGHTS, strict=True))
    return CHARACTERS[(31 - total % 31) % 31]


def credit_code(value: str) -> str:
    """`value` if it is a valid code; a ValueError saying what is wrong otherwise."""
    if len(value) != LENGTH or any(c not in CHARACTERS for c in value):
        raise ValueError(
            f"an entity code (统一社会信用代码) is {LENGTH} digits and capital letters but "
            "I, O, Z, S, V"
        )
    if check_character(value[:-1]) != value[-1]:
        raise ValueError(
            f"entity code {value}: its check character (the last) should be "
            f"{check_character(value[:-1])} (GB 32100-2015)"
        )
    return value
