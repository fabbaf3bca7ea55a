"""`projections rebuild` gives, row by row, the read model that catching up as events come
gives: on generated orders, with corrections and findings, with and without a key, on both
backends (the store is PostgreSQL when $HOTLINE_TEST_POSTGRES is set)."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hotline.adapters.readmodel import ReadModel, audit
from hotline.adapters.rubric_files import load_metrics, load_rubric, projections_dir
from hotline.adapters.store_scan import events_table
from hotline.cli.main import main
from hotline.service.application import HotlineApplication
from hotline.service.projection import OrderProjection
from test_projection import rows

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
