"""Issue 17's rule fixes (item 5), each through the CLI on the test's store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Cli = Callable[..., tuple[int, str, str]]
UNIT = "闵行区市场监管局"


def receive(cli: Cli, number: str, kind: str, at: str, *extra: str) -> None:
    code, _, err = cli("order", "receive", number, "--unit", UNIT, "--kind", kind,
                       "--channel", "12345", "--at", at, *extra)  # fmt: skip
    assert code == 0, err


def step(cli: Cli, command: str, number: str, *options: str) -> None:
    code, _, err = cli("order", command, number, *options)
    assert code == 0, err


def limits(cli: Cli, number: str) -> dict[str, dict[str, Any]]:
    code, out, err = cli("order", "show", number, "--format", "json")
    assert code == 0, err
    return {limit["limit"]: limit for limit in json.loads(out)["limits"]}


# March 2026 has no holidays: received Monday 03-02, day 4 is 03-06, day 5 03-09, day 8 03-12.
def test_a_revisit_review_extension_counts_only_within_its_five_days(cli: Cli) -> None:
    for number, applied in (
        ("2026-000001", "2026-03-09 09:00"),
        ("2026-000002", "2026-03-12 09:00"),
    ):
        receive(cli, number, "回访复核单", "2026-03-02 10:00")
        step(cli, "extend", number, "--until", "2026-03-31", "--reason", "需现场核查",
             "--at", applied)  # fmt: skip
        step(cli, "close", number, "--result", "实际解决", "--at", "2026-03-20 15:00")
    on_day_five = limits(cli, "2026-000001")["close"]
    assert (on_day_five["status"], on_day_five["due"]) == ("met", "2026-03-30")
    on_day_eight = limits(cli, "2026-000002")["close"]
    assert (on_day_eight["status"], on_day_eight["due"]) == ("missed", "2026-03-06")
    assert "applied for after day 5 is not counted" in on_day_eight["note"]


def test_an_ordinary_order_extended_on_day_eight_still_counts(cli: Cli) -> None:
    receive(cli, "2026-000003", "投诉", "2026-03-02 10:00")
    step(cli, "extend", "2026-000003", "--until", "2026-03-31", "--reason", "需现场核查",
         "--at", "2026-03-12 09:00")  # fmt: skip
    close = limits(cli, "2026-000003")["close"]
    assert close["due"] == "2026-03-30"
