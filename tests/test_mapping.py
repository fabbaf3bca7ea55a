"""A mapping's named event entries (issue 17): one row gives several events of one kind
(an order's notices, 告知), each with its fixed fields, in the aggregate's order; a broken
entry is one line naming the file, the key and the problem. Through the row reader
(`open_export`) and the CLI (`hotline import --mapping`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotline.adapters.mapping_files import load_mapping
from hotline.domain.errors import DataFileError
from hotline.domain.vocabulary import Decision
from hotline.service.exports import open_export

Cli = Callable[..., tuple[int, str, str]]
MINHANG = "闵行区市场监管局"
MINE = """
time_formats = ["%Y-%m-%d %H:%M"]

[defaults]
"received.channel" = "12315"
"received.kind" = "complaint"

[events.accepted]
unless = "declined.reason"

[events.declined]
when = "reason"

[events.acceptance_notice]
kind = "notified"
fields = { of = "accepted" }
unless = "declined.reason"

[events.decline_notice]
kind = "notified"
fields = { of = "declined" }
when = "declined.reason"

[events.case_notice]
kind = "notified"
fields = { of = "case_decided" }

[[column]]
headers = ["件号"]
to = ["order"]

[[column]]
headers = ["登记时间"]
to = ["received.at"]
read = "time"

[[column]]
headers = ["处理机构"]
to = ["received.unit"]

[[column]]
headers = ["告知时间"]
to = ["acceptance_notice.at", "decline_notice.at"]
read = "time"

[[column]]
headers = ["受理时间"]
to = ["accepted.at", "declined.at"]
read = "time"

[[column]]
headers = ["不予受理原因"]
to = ["declined.reason"]

[[column]]
headers = ["立案告知时间"]
to = ["case_notice.at"]
read = "time"

[[column]]
headers = ["立案时间"]
to = ["case_decided.at"]
read = "time"

[[column]]
headers = ["是否立案"]
to = ["case_decided.filed"]
"""
HEADERS = ["件号", "登记时间", "处理机构", "告知时间", "受理时间", "不予受理原因", "立案告知时间",
           "立案时间", "是否立案"]  # fmt: skip
ROWS = [
    # told of the acceptance at the minute it was made, of the case the next day
    ["M-1", "2026-03-02 09:00", MINHANG, "2026-03-03 10:00", "2026-03-03 10:00", "",
     "2026-03-10 09:00", "2026-03-09 16:00", "true"],
    ["M-2", "2026-03-02 09:30", MINHANG, "2026-03-04 11:00", "2026-03-04 10:00",
     "不属于市场监督管理部门职责", "", "", ""],
]  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def records(tmp_path: Path, rows: list[list[str]]) -> dict[str, list[tuple[str, Any]]]:
    """Each order's events as the row reader gives them: (event, its `of` or None)."""
    mapping = load_mapping(write(tmp_path / "mine.toml", MINE))
    _, entries = open_export(write_csv(tmp_path / "e.csv", [HEADERS, *rows]), "csv", mapping)
    found: dict[str, list[tuple[str, Any]]] = {}
    for entry in entries:
        assert entry.parse is not None
        parsed = entry.parse()
        assert parsed.problem is None, parsed.problem
        for record in parsed.records:
            found.setdefault(record.order, []).append((record.event, record.fields.get("of")))
    return found


def test_a_row_gives_several_events_of_one_kind_each_with_its_fixed_fields(
    tmp_path: Path,
) -> None:
    found = records(tmp_path, ROWS)
    assert found["M-1"] == [
        ("received", None),
        ("accepted", None),
        ("notified", Decision.ACCEPTED),  # at the same minute: after the decision it tells of
        ("case_decided", None),
        ("notified", Decision.CASE_DECIDED),
    ]
    assert found["M-2"] == [("received", None), ("declined", None),
                            ("notified", Decision.DECLINED)]  # fmt: skip


def test_entries_come_in_the_aggregates_order_of_their_events(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path / "mine.toml", MINE))
    order = mapping.event_order
    assert order.index("acceptance_notice") > order.index("accepted")
    assert order.index("case_notice") > order.index("case_decided")
    assert order.index("acceptance_notice") < order.index("case_notice")  # as the file has them
    assert mapping.kind_of("case_notice") == "notified"
    assert mapping.kind_of("accepted") == "accepted"


def test_the_mappings_entries_go_through_the_cli_and_the_order_rules(
    cli: Cli, tmp_path: Path
) -> None:
    mapping = write(tmp_path / "mine.toml", MINE)
    early = [*ROWS[0][:3], "2026-03-03 09:00", *ROWS[0][4:]]  # told before it was decided
    export = write_csv(tmp_path / "e.csv", [HEADERS, *ROWS, ["M-3", *early[1:]]])
    code, out, err = cli("import", "--mapping", str(mapping), str(export))
    assert code == 1
    assert "row 4" in err and "M-3" in err, err
    assert "2 rows imported" in out
    code, shown, err = cli("order", "show", "M-1", "--format", "json")
    assert code == 0, err
    told = [(e["at"], e["of"]) for e in json.loads(shown)["events"] if e["event"] == "notified"]
    assert told == [("2026-03-03T10:00:00+08:00", "accepted"),
                    ("2026-03-10T09:00:00+08:00", "case_decided")]  # fmt: skip


ENTRY = """[events.acceptance_notice]
kind = "notified"
fields = { of = "accepted" }
unless = "declined.reason"
"""
BROKEN = {
    "an unknown kind": (
        ENTRY.replace('kind = "notified"', 'kind = "notice"'),
        "events.acceptance_notice.kind: no event 'notice'",
    ),
    "no kind": (
        ENTRY.replace('kind = "notified"\n', ""),
        "events.acceptance_notice: not an event; give its kind",
    ),
    "a field its event has not": (
        ENTRY.replace("of =", "off ="),
        "events.acceptance_notice.fields.off: 'acceptance_notice.off': notified has no field 'off'",
    ),
    "a fixed value its field does not take": (
        ENTRY.replace('of = "accepted"', 'of = "everything"'),
        "events.acceptance_notice.fields.of: Input should be 'accepted', 'declined'",
    ),
    "a fixed time": (
        ENTRY.replace('of = "accepted"', 'of = "accepted", at = "2026-03-03 10:00"'),
        "events.acceptance_notice.fields.at: when it happened is a column's",
    ),
    "named after another event": (
        ENTRY.replace("acceptance_notice]", "supervised]", 1),
        "events.supervised.kind: an entry named after an event is that event",
    ),
    "a name no target can use": (
        ENTRY.replace("acceptance_notice]", '"告知"]', 1),
        'events."告知" (the key): String should match pattern',
    ),
    "when, on another event's time": (
        MINE[MINE.index("[events.decline_notice]") :]
        .split("\n\n")[0]
        .replace('when = "declined.reason"', 'when = "declined.at"'),
        "events.decline_notice.when: no column gives declined.at (an event's field other than at)",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_entry_is_one_line_naming_the_file_the_key_and_the_problem(
    tmp_path: Path, case: str
) -> None:
    broken, problem = BROKEN[case]
    start = MINE.index("[events.acceptance_notice]")
    if case == "when, on another event's time":
        start = MINE.index("[events.decline_notice]")
    end = MINE.index("\n\n", start)
    path = write(tmp_path / "mine.toml", MINE[:start] + broken.rstrip("\n") + MINE[end:])
    with pytest.raises(DataFileError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert problem in message, message


@pytest.mark.parametrize(
    ("good", "broken", "problem"),
    [
        ('to = ["case_notice.at"]', 'to = ["case_told.at"]',
         "column[6].to: 'case_told.at': no event 'case_told'"),
        ('to = ["case_decided.filed"]', 'to = ["case_notice.of"]',
         "events.case_notice.fields.of: fixed, so no column or default gives it"),
    ],
)  # fmt: skip
def test_a_column_naming_no_entry_or_a_fixed_field_is_refused_through_the_cli(
    cli: Cli, tmp_path: Path, good: str, broken: str, problem: str
) -> None:
    mapping = write(tmp_path / "mine.toml", MINE.replace(good, broken, 1))
    export = write_csv(tmp_path / "e.csv", [HEADERS, *ROWS])
    code, out, err = cli("import", "--mapping", str(mapping), str(export))
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "mine.toml: " in err and problem in err, err
    assert cli("order", "show", "M-1")[0] != 0


def test_the_12315_mapping_reads_the_notices(cli: Cli, tmp_path: Path) -> None:
    headers = ["投诉举报编号", "登记时间", "处理机构", "业务类型", "受理时间", "不予受理原因",
               "受理告知时间", "调解结果", "终止调解原因", "办结时间", "终止调解告知时间",
               "立案时间", "立案告知时间", "处理结果"]  # fmt: skip
    rows = [
        ["3101-1", "2026-03-02 10:00", MINHANG, "投诉", "2026-03-03 10:00", "",
         "2026-03-03 11:00", "终止调解", "被投诉人拒绝调解", "2026-03-19 15:00",
         "2026-03-20 09:00", "2026-03-20 10:00", "2026-03-23 10:00", "终止调解"],
        ["3101-2", "2026-03-02 10:00", MINHANG, "投诉", "2026-03-04 10:00",
         "不属于市场监督管理部门职责", "2026-03-05 10:00", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    export = write_csv(tmp_path / "12315.csv", [headers, *rows])
    code, out, err = cli("import", "--mapping", "12315", str(export))
    assert code == 0, err
    assert "2 rows imported" in out
    shown = {}
    for number in ("3101-1", "3101-2"):
        code, document, err = cli("order", "show", number, "--format", "json")
        assert code == 0, err
        shown[number] = [(e["event"], e.get("of")) for e in json.loads(document)["events"]]
    assert shown["3101-1"] == [
        ("received", None),
        ("accepted", None),
        ("notified", "accepted"),
        ("mediation_ended", None),
        ("closed", None),
        ("notified", "mediation_ended"),
        ("case_decided", None),
        ("notified", "case_decided"),
    ]
    assert shown["3101-2"] == [("received", None), ("declined", None), ("notified", "declined")]
