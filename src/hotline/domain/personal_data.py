"""Citizens' personal data (DOMAIN §8): never shown in full by default."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三丰 -> 张**: only the family name's first character stays."""
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678: the middle digits are hidden."""
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 10 else 0
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
