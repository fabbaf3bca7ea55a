"""Citizens' personal data (domain.md §8): never shown in full by default.

Besides the fields that hold it (name, phone, address), a free text (a summary, a reason, a
closing report, a finding's note) may have a phone or ID number typed into it; each such
number is masked where the text is shown, as the citizen's phone is (`mask_numbers`).
"""

from __future__ import annotations

import re
from datetime import date

from hotline.domain.credit_code import CHARACTERS as CREDIT_CODE_CHARACTERS
from hotline.domain.credit_code import check_character


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


NUMBER_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z¥￥$])(?<![0-9][-.])(?<![¥￥$] )(?:"
    r"(?P<id>[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx])"
    r"|(?P<country>(?:\+|00)?86[- ]?)?(?:(?P<mobile>1[3-9][0-9](?:[- ]?[0-9]{4}){2})"
    r"|(?P<landline>[(（]?0?[1-9][0-9]{1,2}[)）]?[- ]?[2-9][0-9]{3}[- ]?[0-9]{4}))"
    r"|(?P<local>[2-9][0-9]{3}[- ]?[0-9]{4})"
    r")(?![0-9A-Za-z])(?![-.][0-9])"
)
"""A number typed into a free text that may be a citizen's: an 18-character resident ID
(居民身份证号, a province code and a birth date in it), a mainland mobile (1[3-9]x, with or
without +86, in one piece or 3-4-4), a landline with its area code (021-64781234, (021)
6478 1234) or a bare 8-digit Shanghai number (64781234, 6478-1234); never part of a longer
number, a code, a decimal or an amount (an order number 2019-13812345678, 1.5, ¥23456789)."""
ID_WEIGHTS = [2 ** (17 - position) % 11 for position in range(17)]
ID_CHECK = "10X98765432"
"""GB 11643-1999's check character of an ID, by the weighted sum of its first 17 digits
modulo 11."""
NOT_A_PHONE_BEFORE = tuple(
    word + tail
    for word in ("编号", "单号", "订单", "工单", "案号", "批号", "发票", "合同", "账号", "卡号")
    for tail in ("", "号", "：", ":")
)
"""What just before a number makes it a reference, not a phone (订单号13812345678)."""
NOT_A_PHONE_AFTER = re.compile(r"\s*(?:元|块|万|亿|%|％|件|个|次|人|份|户|台|米|吨|斤|克)")
"""What after a bare 8 digits makes them an amount or a quantity (23456789元), not a phone."""


def _id_checks(number: str) -> bool:
    """Whether an ID's last character is its check character."""
    total = sum(int(digit) * weight for digit, weight in zip(number, ID_WEIGHTS, strict=False))
    return ID_CHECK[total % 11] == number[-1].upper()


def _is_credit_code(number: str) -> bool:
    """Whether `number` is a valid 统一社会信用代码: a business's id, not personal data."""
    upper = number.upper()
    return (
        all(c in CREDIT_CODE_CHARACTERS for c in upper) and check_character(upper[:-1]) == upper[-1]
    )


def _is_date(digits: str) -> bool:
    """Whether 8 digits are a date written YYYYMMDD (20190312), not a phone."""
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


def _masked_number(found: re.Match[str]) -> str:
    """The number `NUMBER_IN_TEXT` found, masked, or as written if it is none of a
    citizen's."""
    number = found.group(0)
    text = found.string
    if found.group("id") is not None:
        keep = _is_credit_code(number) and not _id_checks(number)
        return number if keep else mask_phone(number)
    if text[max(0, found.start() - 6) : found.start()].strip().endswith(NOT_A_PHONE_BEFORE):
        return number
    national = found.group("mobile") or found.group("landline") or found.group("local")
    digits = re.sub(r"[^0-9]", "", national)
    if found.group("local") is not None and (
        _is_date(digits) or NOT_A_PHONE_AFTER.match(text, found.end())
    ):
        return number
    if found.group("landline") is not None:  # the area code stays whole: 0571****4321
        return (found.group("country") or "") + digits[:-8] + mask_phone(digits[-8:])
    return (found.group("country") or "") + mask_phone(digits)


def mask_numbers(text: str) -> str:
    """`text` with each phone and resident ID number in it masked as `mask_phone` masks the
    citizen's phone (请回电13812345678 -> 请回电138****5678); dates, amounts, order numbers and
    统一社会信用代码 (a business's id, not personal) stay as written."""
    return NUMBER_IN_TEXT.sub(_masked_number, text)


FREE_TEXT_FIELDS = frozenset({"summary", "reason", "legal_basis", "report", "note"})
"""The events' free-text fields: shown with the numbers in them masked (`mask_numbers`)."""

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


def masks(field: str) -> bool:
    """Whether an event's `field` is shown masked: it is personal data or a free text."""
    return field in PERSONAL_FIELDS or field in FREE_TEXT_FIELDS


def mask(field: str, value: object) -> str:
    """`value` of an event's `field` as it may be shown: masked if it is personal data, its
    phone and ID numbers masked if it is a free text."""
    masking = PERSONAL_FIELDS.get(field, mask_numbers if field in FREE_TEXT_FIELDS else None)
    if masking is not None and isinstance(value, str):
        return masking(value)
    return str(value)


def shows(field: str, stored: object, shown: object) -> bool:
    """Whether `shown` (a masked export's cell, read back) is `stored` as it is shown: the
    same, or a free text with its numbers masked."""
    return stored == shown or (
        field in FREE_TEXT_FIELDS and isinstance(stored, str) and mask_numbers(stored) == shown
    )
