"""`order show` in a terminal (issue 17): at 80 columns and wider, no date or time is ever
cut or wrapped apart; the texts (details, notes) wrap instead. Through the CLI, on a 12345
order (flagged, an extension, a limit due in a year with no published schedule) and a
12315 complaint through its whole lifecycle (Order No. 20)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
LONG = "消费者反映在商场购买的羽绒服洗后严重缩水，商家以已过退货期限为由拒绝退换，要求商家退款并赔偿损失"

ORDERS = {
    "12345": [
        ("receive", "--unit", MINHANG, "--kind", "complaint", "--channel", "12345",
         "--summary", LONG, "--at", "2026-11-30 09:00"),
        ("extend", "--until", "2027-01-29", "--reason", "需要抽样送检，检测机构出具报告需二十个工作日",
         "--legal-basis", "《上海市12345市民服务热线管理办法》", "--at", "2026-12-01 10:00"),
    ],
    "12315": [
        ("receive", "--unit", MINHANG, "--kind", "complaint", "--channel", "12315",
         "--summary", LONG, "--citizen-name", "张三丰", "--citizen-phone", "13812345678",
         "--at", "2026-03-02 09:00"),
        ("accept", "--at", "2026-03-04 10:00"),
        ("notify", "--of", "accepted", "--at", "2026-03-05 10:00"),
        ("end-mediation", "--outcome", "terminated", "--reason", "被投诉人拒绝调解，双方分歧较大",
         "--recovered", "120.50", "--at", "2026-03-20 10:00"),
        ("notify", "--of", "mediation_ended", "--at", "2026-03-23 10:00"),
        ("decide-case", "--filed", "--at", "2026-03-25 10:00"),
        ("close", "--result", "unresolved", "--report", LONG, "--at", "2026-03-26 10:00"),
    ],
}  # fmt: skip
"""Each channel's order: every step with long texts."""


def _times(document: dict[str, object]) -> list[str]:
    """Every date and time `order show --format json` has, as the table writes them."""
    found = []
    for event in document["events"]:  # type: ignore[attr-defined]
        for key in ("at", "recorded"):
            found.append(f"{datetime.fromisoformat(event[key]):%Y-%m-%d %H:%M}")
    for check in document["limits"]:  # type: ignore[attr-defined]
        found += [check[key] for key in ("due", "done") if check[key]]
        found += [f"{datetime.fromisoformat(f['at']):%m-%d %H:%M}" for f in check["flags"]]
    return found


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("channel", ORDERS)
def test_no_date_is_cut_at_80_columns_or_wider(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, channel: str, columns: int
) -> None:
    for command, *flags in ORDERS[channel]:
        code, _, err = cli("order", command, "O-1", *flags)
        assert code == 0, err
    if channel == "12345":  # flagged overdue: the flag's time is in the table too
        assert cli("scheduler", "tick", "--as-of", "2026-12-02 18:00")[0] == 0
    monkeypatch.setenv("COLUMNS", str(columns))
    code, table, err = cli("order", "show", "O-1")
    assert code == 0, err
    code, out, err = cli("order", "show", "O-1", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    times = _times(document)
    assert any(check["flags"] for check in document["limits"]) == (channel == "12345")
    assert any(check["provisional"] for check in document["limits"]) == (channel == "12345")
    assert len(times) > 2 * len(document["events"])  # the limits' dates are there too
    for moment in times:
        assert moment in table, (moment, table)
    assert "…" not in table  # nothing cut short
    words = " ".join(table.split())
    for check in document["limits"]:  # each note whole, wrapped at spaces only
        assert " ".join(check["note"].split()) in words, (check["note"], table)
    assert max(len(line) for line in table.splitlines()) <= columns
    assert "(provisional)" in table or channel == "12315"
