"""`hotline units add` / `units rename`: units kept as events in the store, layered over the
shipped registry, seen by every user of the store; and the store's other readers (verify,
audit, projections rebuild, key rotation) with those events present."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from hotline.cli.main import main
from hotline.domain.unit_additions import UNITS_ID
from hotline.service.application import HotlineApplication
from test_verify import Table

MINHANG = "闵行区市场监管局"
LINGANG = "临港新片区市场监管局"
OFFICE = "莘庄市场监管所"

Cli = Callable[..., tuple[int, str, str]]


def receive(cli: Cli, number: str, unit: str, at: str) -> tuple[int, str, str]:
    return cli(
        "order", "receive", number, "--unit", unit, "--kind", "complaint",
        "--channel", "12345", "--at", at,
    )  # fmt: skip


def volumes(cli: Cli, *args: str) -> dict[str, int]:
    code, out, err = cli("report", "rates", "--period", "2020", *args, "--format", "json")
    assert code == 0, err
    return {row["name"]: row["volume"] for row in json.loads(out)["rows"]}


def stored_additions(store: str) -> int:
    app = HotlineApplication(db=store)
    try:
        return app.unit_additions().version
    finally:
        app.close()


def test_an_added_unit_and_office_are_seen_by_every_user_of_the_store(cli: Cli, store: str) -> None:
    code, out, err = cli("units", "add", LINGANG, "--group", "district", "--from", "2020-01-01",
                         "--alias", "临港局")  # fmt: skip
    assert code == 0, err
    assert out.strip() == f"unit {LINGANG} added (group district, from 2020-01-01)"
    code, out, err = cli("units", "add", OFFICE, "--group", "district", "--under", MINHANG)
    assert code == 0, err
    assert out.strip() == f"unit {OFFICE} added (under {MINHANG}, group district)"

    other = HotlineApplication(db=store, actor="someone-else")  # another user, another process
    try:
        assert other.units.get("临港局").name == LINGANG
        assert other.units.get(OFFICE).under == MINHANG
    finally:
        other.close()
    code, out, err = cli("units", "--group", "district")
    assert code == 0, err
    assert LINGANG in out and "from 2020-01-01" in out and f"└ {OFFICE}" in out

    assert receive(cli, "A1", "临港局", "2020-02-03 10:00")[0] == 0
    assert receive(cli, "A2", OFFICE, "2020-02-04 10:00")[0] == 0
    code, _, err = receive(cli, "A3", LINGANG, "2019-12-31 10:00")
    assert code == 1 and "takes effect on 2020-01-01" in err
    found = volumes(cli, "--group", "district")
    assert found[LINGANG] == 1 and found[MINHANG] == 1
    assert volumes(cli, "--level", "office")[OFFICE] == 1


def test_a_rename_in_the_store_reports_the_old_names_orders_under_the_new(cli: Cli) -> None:
    assert receive(cli, "B1", "机场分局", "2020-02-03 10:00")[0] == 0
    code, out, err = cli("units", "rename", "机场分局", "浦东机场市场监管局", "--on", "2020-07-01")
    assert code == 0, err
    assert out.strip() == "unit 机场分局 is 浦东机场市场监管局 from 2020-07-01"
    assert receive(cli, "B2", "浦东机场市场监管局", "2020-08-03 10:00")[0] == 0
    code, _, err = receive(cli, "B3", "机场分局", "2020-08-03 10:00")
    assert code == 1 and "use its successor '浦东机场市场监管局'" in err
    found = volumes(cli, "--group", "district")
    assert found["浦东机场市场监管局"] == 2 and "机场分局" not in found


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", MINHANG, "--group", "district"),
         f"unit '{MINHANG}' (`hotline units add`): unit '{MINHANG}' is already listed in this group"),
        (("add", "某某局", "--group", "nowhere"),
         "unit '某某局': unknown unit group 'nowhere'; valid groups: district, municipal, "
         "consumer_council"),
        (("add", OFFICE, "--group", "district", "--under", "不存在区市场监管局"),
         "unknown unit '不存在区市场监管局'"),
        (("add", OFFICE, "--group", "municipal", "--under", MINHANG),
         f"{MINHANG} is in group 'district', not 'municipal'; an office is in its bureau's group"),
        (("add", "某某局", "--group", "district", "--alias", "市药品监管局"),
         "alias '市药品监管局' already names '市药监局'"),
        (("add", "某某局", "--group", "district", "--from", "明天"), "明天"),
        (("rename", "松江区市场监管局", MINHANG, "--on", "2021-01-01"),
         f"renaming '松江区市场监管局' to '{MINHANG}' on 2021-01-01: '{MINHANG}' is already a "
         "unit; a rename gives a unit a new name"),
        (("rename", "不存在局", "新局", "--on", "2021-01-01"), "unknown unit '不存在局'"),
    ],
)  # fmt: skip
def test_a_unit_that_does_not_fit_is_refused_in_one_line_and_nothing_is_written(
    cli: Cli, store: str, args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli("units", *args)
    assert code == 1, out
    assert err.count("\n") == 1 and "Traceback" not in err
    assert message in err
    assert stored_additions(store) == 0


def test_a_rename_that_overlaps_an_earlier_one_is_refused(cli: Cli, store: str) -> None:
    assert cli("units", "rename", "机场分局", "浦东机场局", "--on", "2021-01-01")[0] == 0
    code, _, err = cli("units", "rename", "机场分局", "机场局", "--on", "2022-01-01")
    assert code == 1
    assert "'机场分局' is already renamed at rename[0]" in err
    assert stored_additions(store) == 2  # the additions' start and the one rename


def test_verify_audit_and_a_rebuild_work_with_unit_events_in_the_store(cli: Cli) -> None:
    assert cli("units", "add", LINGANG, "--group", "district", "--from", "2020-01-01")[0] == 0
    assert receive(cli, "C1", LINGANG, "2020-02-03 10:00")[0] == 0
    before = volumes(cli)
    code, out, err = cli("verify")
    assert code == 0, err + out
    code, out, err = cli("audit", "--format", "json")
    assert code == 0, err
    events = {row["event"]: row for row in json.loads(out)["rows"]}
    assert events["unit_added"]["detail"] == LINGANG and "received" in events
    code, out, err = cli("projections", "rebuild")
    assert code == 0, err
    assert volumes(cli) == before
    assert before[LINGANG] == 1


class UnitEvents(Table):
    """The store's event table, at the unit additions' events."""

    def _id(self, number: str) -> Any:
        return UNITS_ID if self.postgres else UNITS_ID.hex


def test_a_unit_event_altered_in_the_store_is_named_by_verify(cli: Cli, store: str) -> None:
    assert cli("units", "add", LINGANG, "--group", "district", "--from", "2020-01-01")[0] == 0
    assert cli("report", "rates", "--period", "2020")[0] == 0  # the read model applies it
    table = UnitEvents(store)
    state = table.state("", 2)
    assert b"2020-01-01" in state
    table.set_state("", 2, state.replace(b"2020-01-01", b"2019-01-01"))
    code, out, err = cli("verify")
    assert code == 1
    assert "the units added (`hotline units add`) event #2 (unit_added): altered" in out + err


def test_a_key_rotation_re_encrypts_the_unit_events_too(
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = AESCipher.create_key(32), AESCipher.create_key(32)

    def run(key: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("HOTLINE_KEY", key)
        code = main(["--db", store, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert run(old, "units", "add", LINGANG, "--group", "district")[0] == 0
    key_file = tmp_path / "new.key"
    key_file.write_text(new + "\n")
    key_file.chmod(0o600)
    code, out, err = run(old, "key", "rotate", "--new-key-file", str(key_file))
    assert code == 0, err
    assert "2 events re-encrypted" in out  # the additions' start and the unit added
    code, out, err = run(new, "units", "--group", "district")
    assert code == 0, err
    assert LINGANG in out
    code, _, err = run(old, "units")
    assert code == 1 and "HOTLINE_KEY is not this store's key" in err
