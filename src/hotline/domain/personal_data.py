"""Citizens' personal data (domain.md §8): never shown in full by default."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三丰 -> 张**: only the family name's first character stays."""
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678: the middle digits are hidden. A shorter number keeps at
    most its last 4 digits and at least half of it hidden (12345 -> ***45, 64781234 ->
    ****1234); one of 4 digits or fewer is hidden whole."""
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 10 else 0
    keep_tail = min(4, len(digits) // 2)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - keep_tail) + digits[-keep_tail:]


def mask_address(address: str) -> str:
    """上海市闵行区莘庄镇莘东路100弄5号 -> 上海市闵行区************: only the first third
    (at most 8 characters) stays, enough to tell the area, never the door."""
    keep = min(8, len(address) // 3)
    return address[:keep] + "*" * (len(address) - keep)


PERSONAL_FIELDS = {
    "citizen_name": mask_name,
    "citizen_phone": mask_phone,
    "address": mask_address,
}
"""The events' fields that hold personal data, and how each is masked."""


def is_masked(field: str, value: object) -> bool:
    """Whether `value` of personal-data `field` is shown masked (as `mask` writes it, in a
    masked export): it no longer is the citizen's data."""
    return field in PERSONAL_FIELDS and isinstance(value, str) and "*" in value


def mask(field: str, value: object) -> str:
    """`value` of an event's `field` as it may be shown: masked if it is personal data."""
    masking = PERSONAL_FIELDS.get(field)
    if masking is not None and isinstance(value, str):
        return masking(value)
    return str(value)
