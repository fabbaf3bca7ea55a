"""`projections rebuild` gives, row by row, the read model that catching up as events come
gives: on generated orders, with corrections and findings, with and without a key, on both
backends (the store is PostgreSQL when $HOTLINE_TEST_POSTGRES is set)."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from hotline.adapters.readmodel import ReadModel, audit, metadata
from hotline.adapters.rubric_files import load_metrics, load_rubric, projections_dir
from hotline.adapters.store_scan import events_table
from hotline.cli.main import main
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from test_audit import handled
from test_projection import rows
from test_verify import Cli, Table, orders, problems

GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
KEY = base64.b64encode(b"r" * 32).decode()
MINHANG = "闵行区市场监管局"


def unsealed(readmodel: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, its sealed texts opened: a key seals each with a nonce of its
    own, so the same text is kept as other bytes each time."""
    return {
        name: [
            tuple(readmodel.unseal(v) if isinstance(v, str) else v for v in row) for row in table
        ]
        for name, table in rows(readmodel).items()
    }


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_a_rebuild_equals_the_read_model_caught_up_as_events_came(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    monkeypatch.delenv("HOTLINE_KEY_FILE", raising=False)
    if key is None:
        monkeypatch.delenv("HOTLINE_KEY", raising=False)
    else:
        monkeypatch.setenv("HOTLINE_KEY", key)
    lines = tmp_path / "year.jsonl"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "300", "--facts", "--output", str(lines)],
        check=True,
        capture_output=True,
    )
    assert main(["--db", store, "import", str(lines)]) == 0
    app = HotlineApplication(db=store)
    try:
        projection = OrderProjection(app, app.readmodel, batch_size=37)  # batches end anywhere
        projection.catch_up()
        app.correct("2019-000001", "received", "unit", "松江区市场监管局", "派错")
        app.correct("2019-000002", "received", "at", "2018-11-01T09:00:00+08:00", "时间录错")
        metrics = [m.key for m in load_metrics(projections_dir())]
        bonus = load_rubric("shanghai-12345-2019", metrics, app.units, app.rubrics)
        kept = app.record_finding(
            bonus, "three_way_transfer", date(2019, 3, 5), "转接", unit=MINHANG
        )
        withdrawn = app.record_finding(
            bonus, "three_way_transfer", date(2019, 3, 6), "重复", unit=MINHANG
        )
        app.withdraw_finding(withdrawn, "entered twice")
        projection.catch_up()
        incremental = unsealed(app.readmodel)
        assert main(["--db", store, "projections", "rebuild"]) == 0
        assert unsealed(app.readmodel) == incremental
        with app.readmodel.engine.connect() as connection:
            stored = connection.scalar(text(f"SELECT count(*) FROM {events_table(app.recorder)}"))
            applied = connection.scalar(select(func.count()).select_from(audit))
        assert applied == stored  # one trail row per stored event
        assert {row[0] for row in incremental["rm_findings"]} == {str(kept), str(withdrawn)}
    finally:
        app.close()


def _altered_in_place(table: Table, cli: Cli) -> None:
    for number, version in (("A", 2), ("D", 2)):  # A by the old trail, D by its chain
        state = table.state(number, version)
        table.set_state(number, version, state.replace(b"T10:00:00+08:00", b"T11:00:00+08:00"))


def _swapped_between_orders(table: Table, cli: Cli) -> None:
    a, b = table.state("A", 2), table.state("B", 2)
    table.set_state("A", 2, b)
    table.set_state("B", 2, a)


def _removed(table: Table, cli: Cli) -> None:
    table.delete("A", 2)  # the middle
    table.delete("B", 3)  # the newest: only the old trail (and SQLite's positions) tell


def _removed_unseen(table: Table, cli: Cli) -> None:
    table.delete("D", 2)  # D is not in the read model: only its versions tell


def _moved(table: Table, cli: Cli) -> None:
    table.move("A", 3, "B", 4)


def _first_moved(table: Table, cli: Cli) -> None:
    table.move("D", 1, "Z", 1)


def _retyped(table: Table, cli: Cli) -> None:
    table.set_topic("B", 2, "this_module_is_not_there:Thing")


def _not_json(table: Table, cli: Cli) -> None:
    table.set_state("C", 2, b"not json")


TAMPERINGS = [_altered_in_place, _swapped_between_orders, _removed, _removed_unseen, _moved,
              _first_moved, _retyped, _not_json]  # fmt: skip


def _tampered_store(store: str, cli: Cli, tamper: Callable[[Table, Cli], None]) -> None:
    """A, B, C applied by the read model; D received and rated after; then `tamper`."""
    orders(cli)
    handled(cli, "D")
    assert cli("order", "rate", "D", "--rating", "satisfied", "--at", "2026-03-11 10:00")[0] == 0
    tamper(Table(store), cli)


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda t: t.__name__.strip("_"))
def test_the_one_pass_refuses_what_verify_finds_and_keeps_the_old_read_model(
    store: str, cli: Cli, tamper: Callable[[Table, Cli], None]
) -> None:
    _tampered_store(store, cli, tamper)
    found = problems(cli)
    app = HotlineApplication(db=store)
    try:
        before = rows(app.readmodel)
        code, out, err = cli("projections", "rebuild")
        assert code == 1 and "the read model was not rebuilt" in err, (out, err)
        assert out.splitlines() == found  # the same lines, the same order
        assert rows(app.readmodel) == before  # the evidence kept
    finally:
        app.close()
    code, out, _ = cli("projections", "rebuild", "--despite-problems")
    assert code == 0 and out.splitlines()[:-1] == found, out


def test_an_event_the_fold_cannot_read_is_a_problem_not_a_traceback(store: str, cli: Cli) -> None:
    orders(cli)
    table = Table(store)
    table.set_state("B", 3, table.state("B", 3).replace(b'"result"', b'"outcome"'))
    code, out, err = cli("projections", "rebuild")
    assert code == 1 and err.startswith("hotline: ") and err.count("\n") == 1, err
    assert out.splitlines() == [
        "order B event #3 (closed): altered — its state has no 'result', which the read model needs"
    ]
    assert problems(cli)[0].startswith("order B event #3 (closed): altered — its state is not a")
    code, out, err = cli("projections", "rebuild", "--despite-problems")
    assert code == 0, err
    assert out.endswith("read model rebuilt from 9 events; 2 orders\n"), out  # B left out


def _indexes(readmodel: ReadModel) -> dict[str, list[str]]:
    """Each read-model table's declared indexes the database has (PostgreSQL also lists
    those of its unique constraints)."""
    with readmodel.engine.connect() as connection:
        found = inspect(connection)
        return {
            name: sorted(
                str(index["name"])
                for index in found.get_indexes(name)
                if str(index["name"]).startswith("ix_")
            )
            for name in sorted(metadata.tables)
        }


def test_the_indexes_a_refill_builds_after_its_load_are_there_after_a_rebuild_or_a_refusal(
    store: str, cli: Cli
) -> None:
    orders(cli)
    app = HotlineApplication(db=store)
    try:
        declared = {t.name: sorted(str(i.name) for i in t.indexes) for t in metadata.sorted_tables}
        assert _indexes(app.readmodel) == declared and declared["rm_orders"]
        assert cli("projections", "rebuild")[0] == 0
        assert _indexes(app.readmodel) == declared
        table = Table(store)
        table.set_state("C", 2, b"not json")
        assert cli("projections", "rebuild")[0] == 1  # refused: rolled back
        assert _indexes(app.readmodel) == declared
    finally:
        app.close()
