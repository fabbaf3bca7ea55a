"""The optional facts of `received` that platform exports carry (issue 16): category,
district, street, address (personal data), entity and its 统一社会信用代码."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hotline.domain.credit_code import CHARACTERS, check_character, credit_code
from hotline.domain.personal_data import mask_address

Cli = Callable[..., tuple[int, str, str]]
UNIT = "闵行区市场监管局"
ADDRESS = "上海市闵行区莘庄镇莘东路100弄5号"
VALID_CODES = ["91310000132149237G", "91350100M000100Y43", "91110000600037341L"]
"""Codes as printed on business licences."""


def receive(cli: Cli, number: str, *flags: str) -> tuple[int, str, str]:
    return cli(
        "order", "receive", number, "--unit", UNIT, "--kind", "投诉", "--channel", "12315",
        "--at", "2026-03-02 09:00", *flags,
    )  # fmt: skip


def shown(cli: Cli, number: str, *flags: str) -> dict[str, Any]:
    code, out, err = cli("order", "show", number, "--format", "json", *flags)
    assert code == 0, err
    received: dict[str, Any] = json.loads(out)["events"][0]
    return received


@pytest.mark.parametrize("code", VALID_CODES)
def test_a_licences_code_is_valid(code: str) -> None:
    assert credit_code(code) == code
    assert check_character(code[:-1]) == code[-1]


@pytest.mark.parametrize("code", VALID_CODES)
def test_any_one_character_mistyped_is_refused(code: str) -> None:
    """Every weight is prime to 31, so the check character catches every single substitution."""
    for position in range(len(code)):
        for other in CHARACTERS.replace(code[position], ""):
            with pytest.raises(ValueError, match="check character"):
                credit_code(code[:position] + other + code[position + 1 :])


@pytest.mark.parametrize(
    "code", ["9131000013214923", "91310000132149237G1", "9131000013214923IG", "91310000132149237g"]
)
def test_a_code_of_another_length_or_alphabet_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="18 digits and capital letters but I, O, Z, S, V"):
        credit_code(code)


def test_the_facts_are_kept_and_shown_under_their_names(cli: Cli) -> None:
    code, _, err = receive(
        cli, "F1", "--category", "市场监管", "--category", "食品安全", "--category", "过期食品",
        "--district", "闵行区", "--street", "莘庄镇", "--address", ADDRESS,
        "--entity", "某某超市有限公司", "--entity-code", VALID_CODES[0],
    )  # fmt: skip
    assert code == 0, err
    event = shown(cli, "F1")
    assert {k: event[k] for k in ("category", "district", "street", "entity", "entity_code")} == {
        "category": ["市场监管", "食品安全", "过期食品"],
        "district": "闵行区",
        "street": "莘庄镇",
        "entity": "某某超市有限公司",
        "entity_code": VALID_CODES[0],
    }


def test_an_order_without_them_shows_none(cli: Cli) -> None:
    assert receive(cli, "F2")[0] == 0
    event = shown(cli, "F2")
    assert not {"category", "district", "street", "address", "entity", "entity_code"} & set(event)


def test_the_address_is_masked_everywhere_unless_revealed(cli: Cli) -> None:
    assert receive(cli, "F3", "--address", ADDRESS)[0] == 0
    code, _, err = cli(
        "order", "correct", "F3", "--event", "received", "--field", "address",
        "--value", "上海市闵行区七宝镇漕宝路1号", "--reason", "地址录错",
    )  # fmt: skip
    assert code == 0, err
    outputs = [cli(*args) for args in (("order", "show", "F3"), ("audit", "F3"), ("audit",),
                                       ("order", "show", "F3", "--format", "json"))]  # fmt: skip
    assert all(code == 0 for code, _, _ in outputs)
    everything = "\n".join(out + err for _, out, err in outputs)
    assert ADDRESS not in everything and "漕宝路" not in everything
    assert mask_address(ADDRESS) in everything
    assert shown(cli, "F3")["address"] == mask_address("上海市闵行区七宝镇漕宝路1号")
    assert (
        shown(cli, "F3", "--reveal", "--reason", "上门核实")["address"]
        == "上海市闵行区七宝镇漕宝路1号"
    )


def test_a_mask_keeps_a_third_of_an_address_at_most_8_characters() -> None:
    assert mask_address(ADDRESS) == "上海市闵行区" + "*" * (len(ADDRESS) - 6)
    long = "上海市浦东新区张江镇" * 3
    assert mask_address(long) == long[:8] + "*" * (len(long) - 8)
    assert mask_address("莘庄") == "**"


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--entity-code", "91310000132149237A"), "its check character (the last) should be G"),
        (("--entity-code", "9131000013214923"), "entity code (统一社会信用代码) is 18"),
        (("--category", "a", "--category", "b", "--category", "c", "--category", "d"),
         "category: List should have at most 3 items"),
        (("--category", ""), "category.0: String should have at least 1 character"),
        (("--category", "长" * 101), "category.0: String should have at most 100 characters"),
        (("--district", ""), "district: String should have at least 1 character"),
        (("--street", "街\x1b[31m"), "street"),
        (("--address", "址" * 501), "address: String should have at most 500 characters"),
        (("--entity", "名" * 201), "entity: String should have at most 200 characters"),
    ],
)  # fmt: skip
def test_a_bad_fact_is_one_line_and_nothing_is_written(
    cli: Cli, flags: tuple[str, ...], says: str
) -> None:
    code, out, err = receive(cli, "BAD", *flags)
    assert (code, out) == (1, "")
    assert says in err and len(err.strip().splitlines()) == 1, err
    code, _, err = cli("order", "show", "BAD")
    assert code != 0 and "BAD" in err


def test_the_import_takes_the_facts_under_the_same_names(cli: Cli, tmp_path: Any) -> None:
    line = {
        "order": "F4", "event": "received", "at": "2026-03-02T09:00:00+08:00", "unit": UNIT,
        "kind": "complaint", "channel": "12315", "category": ["市场监管", "价格"],
        "district": "闵行区", "street": "七宝镇", "address": ADDRESS, "entity": "某某商店",
        "entity_code": VALID_CODES[1],
    }  # fmt: skip
    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = cli("import", str(path))
    assert code == 0, err
    event = shown(cli, "F4", "--reveal", "--reason", "核对导入")
    assert {k: event[k] for k in line if k not in ("order", "event", "unit", "kind")} == {
        k: v for k, v in line.items() if k not in ("order", "event", "unit", "kind")
    }
