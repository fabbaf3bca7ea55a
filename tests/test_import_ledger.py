"""The import ledger (issue 16, speed): an unchanged export row is known from the ledger and
not parsed; anything else (an edited row, a corrected order, another mapping) is compared
as before; without the ledger every result is the same."""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy import delete, func, select, text

from hotline.adapters import import_ledger
from hotline.adapters.import_ledger import ledger
from hotline.adapters.mapping_files import load_mapping, mapping_path
from hotline.domain.order import order_id
from hotline.service.application import HotlineApplication
from hotline.service.exports import open_export
from hotline.service.importer import Entry, Importer
from test_exports_import import ORDERS, run, stores, table, write_xlsx
from test_roles import on_postgres, role_of, roles

__all__ = ["roles", "stores"]  # the fixtures, used by name

NUMBERS = [str(o["工单编号"]) for o in ORDERS]


def ledger_rows(store: str) -> dict[Any, tuple[bytes, int, int]]:
    app = HotlineApplication(db=store)
    try:
        with app.readmodel.engine.connect() as connection:
            rows = connection.execute(select(ledger))
            return {r.order_id: (bytes(r.digest), r.version, r.events) for r in rows}
    finally:
        app.close()


def counted(entries: Iterator[Entry], parsed: list[int]) -> Iterator[Entry]:
    """The entries, each row's parsing counted in `parsed`."""
    for entry in entries:
        parse = entry.parse
        if parse is None:
            yield entry
            continue

        def counting(parse: Callable[[], Entry] = parse) -> Entry:
            parsed.append(1)
            return parse()

        yield replace(entry, parse=counting)


def imported(app: HotlineApplication, path: Path, **options: Any) -> tuple[Any, int]:
    """The Importer's result on the export at `path`, and how many rows it parsed."""
    parsed: list[int] = []
    entries = open_export(path, "xlsx", load_mapping(mapping_path("default")))[1]
    result = Importer(app, **options).run_entries(counted(entries, parsed))
    return result, len(parsed)


def test_an_unchanged_export_re_imported_is_known_from_the_ledger_parses_no_row_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "week1.xlsx", table(ORDERS))
    app = HotlineApplication(db=store)
    try:
        first, parsed = imported(app, export)
        assert (first.rows_imported, first.rows_known, parsed) == (5, 0, 5)
        events = len(app.recorder.select_notifications(None, 1_000))
        again, parsed = imported(app, export)
        assert (again.rows_unchanged, again.rows_known, parsed, again.written) == (5, 5, 0, 0)
        assert again.already_present == first.written  # each row's events, as counted before
        assert len(app.recorder.select_notifications(None, 1_000)) == events
    finally:
        app.close()
    assert {key for key in ledger_rows(store)} == {order_id(n) for n in NUMBERS}  # by UUID
    code, out, err = run(capsys, store, "import", str(export))
    assert (code, err) == (0, "")
    assert "0 rows imported, 5 unchanged (5 known from the import ledger), 0 conflicting" in out
    code, out, err = run(capsys, store, "verify")
    assert (code, err) == (0, ""), err


def test_an_edited_row_and_a_corrected_order_are_compared_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    assert run(capsys, store, "import", str(write_xlsx(tmp_path / "a.xlsx", table(ORDERS))))[0] == 0
    edited = [dict(o) for o in ORDERS]
    edited[4] |= {"办结时间": "2019-03-26 10:00", "办理结果": "已解决", "是否告知": "是"}  # new
    edited[1]["办理结果"] = "已解决"  # a conflict
    code, out, err = run(capsys, store, "import", str(write_xlsx(tmp_path / "b.xlsx",
                                                              table(edited))))  # fmt: skip
    assert code == 1
    assert err == (
        f"hotline: {tmp_path / 'b.xlsx'}: row 5: order 2019-000002: 办理结果: stored "
        "'explained', the export says 'resolved'; not written\n"
    )
    assert (
        "1 row imported, 3 unchanged (3 known from the import ledger), 1 conflicting, "
        "0 rejected; 1 event written" in out
    )
    # 2019-000003 corrected: the same file's row is no longer trusted, its conflict shown
    code, _, err = run(capsys, store, "order", "correct", "2019-000003", "--event", "closed",
                       "--field", "result", "--value", "resolved", "--reason", "录错")  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, store, "import", str(tmp_path / "b.xlsx"))
    assert code == 1
    assert "order 2019-000003: 办理结果: stored 'resolved', the export says 'unresolved'" in err
    assert "order 2019-000002: 办理结果" in err
    assert "0 rows imported, 3 unchanged (3 known from the import ledger), 2 conflicting" in out


def test_an_entry_whose_order_moved_on_is_not_trusted_and_is_renewed(
    tmp_path: Path, stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "week1.xlsx", table(ORDERS))
    app = HotlineApplication(db=store)
    try:
        imported(app, export)
        kept = ledger_rows(store)[order_id("2019-000005")]
        app.correct("2019-000005", "received", "summary", "更正后的诉求", "录错")  # not in the row
        result, parsed = imported(app, export)
        assert (result.rows_unchanged, result.rows_known, parsed) == (5, 4, 1)  # compared
        renewed = ledger_rows(store)[order_id("2019-000005")]
        assert renewed[0] == kept[0] and renewed[1] == kept[1] + 1  # same row, new version
        result, parsed = imported(app, export)
        assert (result.rows_known, parsed) == (5, 0)
    finally:
        app.close()


def test_without_the_ledger_every_result_is_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    first = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    assert run(capsys, store, "import", str(first))[0] == 0
    edited = [dict(o) for o in ORDERS]
    edited[1]["办理结果"] = "已解决"
    second = write_xlsx(tmp_path / "b.xlsx", table(edited))
    with_ledger = run(capsys, store, "import", str(second))
    app = HotlineApplication(db=store)
    try:
        with app.readmodel.engine.begin() as connection:
            connection.execute(delete(ledger))
        emptied = run(capsys, store, "import", str(second))
        with app.readmodel.engine.begin() as connection:
            connection.execute(text("DROP TABLE import_ledger"))
        dropped = run(capsys, store, "import", str(second))
    finally:
        app.close()
    without = "0 rows imported, 4 unchanged, 1 conflicting"
    assert without in emptied[1] and without in dropped[1]
    for code, out, err in (emptied, dropped):
        assert (code, err) == (with_ledger[0], with_ledger[2])
        assert out == with_ledger[1].replace(" (4 known from the import ledger)", "")


def test_check_reads_the_ledger_and_never_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    code, out, _ = run(capsys, store, "import", "--check", str(export))
    assert code == 0 and "5 rows imported" in out
    assert ledger_rows(store) == {}
    assert run(capsys, store, "import", str(export))[0] == 0
    code, _, err = run(capsys, store, "order", "correct", "2019-000005", "--event", "received",
                       "--field", "summary", "--value", "更正", "--reason", "录错")  # fmt: skip
    assert code == 0, err
    before = ledger_rows(store)
    code, out, _ = run(capsys, store, "import", "--check", str(export))
    assert code == 0 and "5 unchanged (4 known from the import ledger)" in out
    assert ledger_rows(store) == before  # 2019-000005's entry not renewed


def test_the_digest_is_keyed_by_the_store_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    export = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    plain = str(tmp_path / "plain" / "hotline.db")
    assert run(capsys, plain, "import", str(export))[0] == 0
    monkeypatch.setenv("HOTLINE_KEY", AESCipher.create_key(32))
    sealed = str(tmp_path / "sealed" / "hotline.db")
    assert run(capsys, sealed, "import", str(export))[0] == 0
    digests = {key: row[0] for key, row in ledger_rows(sealed).items()}
    assert digests.keys() == ledger_rows(plain).keys()
    assert all(digests[key] != row[0] for key, row in ledger_rows(plain).items())
    code, out, err = run(capsys, sealed, "import", str(export))
    assert (code, err) == (0, "") and "5 known from the import ledger" in out


@on_postgres
def test_an_importer_role_keeps_the_ledger_and_a_reader_does_not_see_it(
    store: str, roles: Callable[[str], str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    owner = functools.partial(run, capsys, store)
    imp, rdr = roles("importer"), roles("reader")
    assert owner("db", "grant", role_of(imp), "--as", "importer")[0] == 0
    assert owner("db", "grant", role_of(rdr), "--as", "reader")[0] == 0
    export = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    code, _, err = run(capsys, imp, "import", str(export))
    assert (code, err) == (0, "")
    code, out, err = run(capsys, imp, "import", str(export))
    assert (code, err) == (0, "") and "5 unchanged (5 known from the import ledger)" in out
    code, out, err = run(capsys, rdr, "import", "--check", str(export))  # compared, not known
    assert (code, err) == (0, "") and "0 rows imported, 5 unchanged, 0 conflicting" in out
    with psycopg.connect(rdr) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute("SELECT * FROM import_ledger")
    app = HotlineApplication(db=store)
    try:
        with app.readmodel.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(ledger)) == 5
    finally:
        app.close()


def test_another_mapping_or_column_order_is_compared_again(
    tmp_path: Path, stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    app = HotlineApplication(db=store)
    try:
        imported(app, export)
        mapping = load_mapping(mapping_path("default"))
        other = mapping.model_copy(update={"description": "a copy"})
        entries = open_export(export, "xlsx", other)[1]
        result = Importer(app).run_entries(entries)
        assert (result.rows_unchanged, result.rows_known) == (5, 0)
        rows = table(ORDERS)
        header = next(i for i, row in enumerate(rows) if "工单编号" in row)
        swapped = [
            [row[1], row[0], *row[2:]] if i >= header and len(row) > 1 else row
            for i, row in enumerate(rows)
        ]  # the first two columns swapped
        result, parsed = imported(app, write_xlsx(tmp_path / "b.xlsx", swapped))
        assert (result.rows_unchanged, result.rows_known, parsed) == (5, 0, 5)
        result, parsed = imported(app, export)  # the ledger now has the swapped file's rows
        assert (result.rows_unchanged, result.rows_known, parsed) == (5, 0, 5)
    finally:
        app.close()


SHEET = "xl/worksheets/sheet1.xml"
_INLINE = re.compile(rb'<c r="([A-Z]+\d+)"((?: s="\d+")?) t="inlineStr"><is><t>(.*?)</t></is></c>')


def repackaged(source: Path, target: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """A copy of the package at `source`, its parts (by name) changed by `change`."""
    with zipfile.ZipFile(source) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    change(parts)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return target


def with_shared_strings(parts: dict[str, bytes]) -> None:
    """The sheet's inline strings made shared strings, one each, as Excel writes them."""
    strings: list[bytes] = []

    def shared(found: re.Match[bytes]) -> bytes:
        strings.append(found[3])
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (found[1], found[2], len(strings) - 1)

    parts[SHEET] = _INLINE.sub(shared, parts[SHEET])
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    items = b"".join(b"<si><t>%s</t></si>" % text for text in strings)
    parts["xl/sharedStrings.xml"] = b'<sst xmlns="%s">%s</sst>' % (main, items)


def test_an_edited_shared_string_makes_its_row_be_read_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stores: Callable[[], str]
) -> None:
    store = stores()
    inline = write_xlsx(tmp_path / "inline.xlsx", table(ORDERS))
    first = repackaged(inline, tmp_path / "a.xlsx", with_shared_strings)
    assert run(capsys, store, "import", str(first))[0] == 0
    code, out, _ = run(capsys, store, "import", str(first))
    assert code == 0 and "5 unchanged (5 known from the import ledger)" in out

    def edited(parts: dict[str, bytes]) -> None:
        result = next(c for c in table(ORDERS)[3:] if c[0] == "2019-000002")[25]  # 办理结果
        strings = parts["xl/sharedStrings.xml"]
        # openpyxl writes non-ASCII text as character references when lxml is installed
        # (python-docx brings it), as UTF-8 otherwise
        item = next(
            b"<si><t>%s</t></si>" % written
            for written in (result.encode(), result.encode("ascii", "xmlcharrefreplace"))
            if b"<si><t>%s</t></si>" % written in strings
        )
        parts["xl/sharedStrings.xml"] = strings.replace(item, "<si><t>已解决</t></si>".encode(), 1)

    second = repackaged(first, tmp_path / "b.xlsx", edited)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.read(SHEET) == b.read(SHEET)  # only the shared string differs
    code, out, err = run(capsys, store, "import", str(second))
    assert code == 1
    assert (
        "row 5: order 2019-000002: 办理结果: stored 'explained', the export says 'resolved'" in err
    )
    assert "0 rows imported, 4 unchanged (4 known from the import ledger), 1 conflicting" in out


def test_a_restyled_equal_cell_and_a_reordered_sheet_are_compared_and_unchanged(
    tmp_path: Path, stores: Callable[[], str]
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    app = HotlineApplication(db=store)
    try:
        imported(app, export)

        def restyled(parts: dict[str, bytes]) -> None:  # style 0 said, as it was
            parts[SHEET] = parts[SHEET].replace(b'<c r="A6" t=', b'<c r="A6" s="0" t=')

        result, parsed = imported(app, repackaged(export, tmp_path / "b.xlsx", restyled))
        assert (result.rows_unchanged, result.rows_known, parsed, result.written) == (5, 4, 1, 0)
        rows = table(ORDERS)
        rows[3], rows[4] = rows[4], rows[3]  # sheet rows 4 and 5 swapped
        result, parsed = imported(app, write_xlsx(tmp_path / "c.xlsx", rows))
        # the two moved rows compared, and row 6, which the ledger knows restyled
        assert (result.rows_unchanged, result.rows_known, parsed, result.written) == (5, 2, 3, 0)
        assert not result.conflicts and not result.problems
    finally:
        app.close()


def test_an_entry_of_an_older_digest_is_a_miss(
    tmp_path: Path, stores: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = stores()
    export = write_xlsx(tmp_path / "a.xlsx", table(ORDERS))
    app = HotlineApplication(db=store)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(import_ledger, "DIGEST_VERSION", b"ledger-digest/1\0")
            imported(app, export)
        assert len(ledger_rows(store)) == 5
        result, parsed = imported(app, export)
        assert (result.rows_unchanged, result.rows_known, parsed) == (5, 0, 5)
        result, parsed = imported(app, export)
        assert (result.rows_unchanged, result.rows_known, parsed) == (5, 5, 0)
    finally:
        app.close()
