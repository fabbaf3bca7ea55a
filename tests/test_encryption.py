"""Personal data encrypted at rest when a key is configured (HOTLINE_KEY, HOTLINE_KEY_FILE)."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy.engine import make_url

from hotline.adapters.eventstore import PydanticMapper, fingerprint
from hotline.cli.main import main
from hotline.domain.aggregate import now
from hotline.domain.order import Order
from hotline.domain.store_key import STORE_KEY_ID
from hotline.service.application import HotlineApplication
from stores import stored_events

Run = Callable[..., tuple[int, str, str]]
GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_year.py"
NAME = "陈小明"
PHONE = "13917654321"
ENCRYPTED_ERROR = (
    "hotline: the store holds encrypted events; set HOTLINE_KEY or HOTLINE_KEY_FILE to the "
    "store's key"
)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key from the environment the tests run in."""
    without_keys(monkeypatch)


def without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_KEY_FILE", raising=False)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`run(store, *args, key=KEY)`: `hotline --db STORE ARGS...` with HOTLINE_KEY set to KEY
    (None: unset); (exit code, stdout, stderr)."""
    return runner(monkeypatch, capsys)


def runner(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """The `run` fixture's function."""

    def hotline(store: str, *args: str, key: str | None = None) -> tuple[int, str, str]:
        if key is None:
            monkeypatch.delenv("HOTLINE_KEY", raising=False)
        else:
            monkeypatch.setenv("HOTLINE_KEY", key)
        code = main(["--db", store, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return hotline


@pytest.fixture
def plain_store(other_store: str) -> str:
    """A second store, without encryption."""
    return other_store


def raw_events(store: str) -> bytes:
    """What the store keeps of its events, raw: the SQLite files (the -wal included), or the
    PostgreSQL events' state column."""
    if "://" not in store:
        path = Path(store)
        return b"".join(p.read_bytes() for p in sorted(path.parent.glob(f"{path.name}*")))
    url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT state FROM hotline_events").fetchall()
    return b"".join(bytes(row[0]) for row in rows)


def receive(run: Run, store: str, number: str, key: str | None, *extra: str) -> None:
    code, _, err = run(
        store, "order", "receive", number, "--unit", "闵行区市场监管局", "--kind", "投诉",
        "--channel", "12345", "--at", "2026-02-13 10:00", *extra, key=key,
    )  # fmt: skip
    assert code == 0, err


def refused(result: tuple[int, str, str], message: str) -> None:
    code, _, err = result
    assert code == 1
    assert err.strip() == message
    assert "Traceback" not in err


def test_personal_data_is_not_stored_in_the_clear(run: Run, store: str) -> None:
    key = AESCipher.create_key(32)
    receive(run, store, "2026-000001", key, "--citizen-name", NAME, "--citizen-phone", PHONE)
    code, _, err = run(
        store, "order", "first-contact", "2026-000001", "--at", "2026-02-14 09:00", key=key
    )
    assert code == 0, err

    raw = raw_events(store)
    assert PHONE.encode() not in raw
    assert NAME.encode() not in raw
    code, out, err = run(store, "order", "show", "2026-000001", "--format", "json", key=key)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["events"][0]["citizen_phone"] == "139****4321"
    assert [e["event"] for e in shown["events"]] == ["received", "first_contact"]


def test_reports_match_a_store_without_encryption(
    run: Run, store: str, plain_store: str, tmp_path: Path
) -> None:
    year = tmp_path / "year.jsonl"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "300", "--seed", "5", "--output", str(year)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    phones = {
        json.loads(line)["citizen_phone"]
        for line in year.open(encoding="utf-8")
        if "citizen_phone" in line
    }
    assert phones
    key = AESCipher.create_key(32)
    for db, db_key in ((store, key), (plain_store, None)):
        code, _, err = run(db, "import", str(year), key=db_key)
        assert code == 0, err

    raw = raw_events(store)
    assert not [phone for phone in phones if phone.encode() in raw]
    assert all(phone.encode() in raw_events(plain_store) for phone in phones)  # the check works
    for report in (
        ("report", "rates", "--period", "2019", "--format", "json"),
        (
            "report",
            "scores",
            "--rubric",
            "shanghai-12345-2019",
            "--period",
            "2019",
            "--format",
            "json",
        ),
        ("orders", "overdue", "--format", "json"),
    ):
        encrypted = run(store, *report, key=key)
        assert encrypted[0] == 0, encrypted[2]
        assert encrypted == run(plain_store, *report)


def test_without_the_key_the_store_is_refused(run: Run, store: str) -> None:
    key = AESCipher.create_key(32)
    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)

    refused(run(store, "order", "show", "2026-000001"), ENCRYPTED_ERROR)
    refused(run(store, "report", "rates", "--period", "2026"), ENCRYPTED_ERROR)
    refused(run(store, "projections", "rebuild"), ENCRYPTED_ERROR)
    code, _, err = run(store, "order", "show", "2026-000001", key=key)
    assert code == 0, err


def test_a_wrong_key_is_refused(run: Run, store: str) -> None:
    key = AESCipher.create_key(32)
    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)
    wrong = AESCipher.create_key(32)
    message = (
        f"hotline: HOTLINE_KEY is not this store's key (fingerprint {fingerprint(wrong)[:8]}…, "
        f"the store's is {fingerprint(key)[:8]}…); nothing was read or written"
    )
    refused(run(store, "order", "show", "2026-000001", key=wrong), message)
    refused(run(store, "report", "rates", "--period", "2026", key=wrong), message)
    refused(run(store, "projections", "rebuild", key=wrong), message)


def test_plaintext_events_stay_readable_once_a_key_is_configured(run: Run, store: str) -> None:
    receive(run, store, "2026-000001", None, "--citizen-name", NAME, "--citizen-phone", PHONE)
    assert PHONE.encode() in raw_events(store)  # written before the key: plaintext
    key = AESCipher.create_key(24)
    code, _, err = run(
        store, "order", "first-contact", "2026-000001", "--at", "2026-02-14 09:00", key=key
    )
    assert code == 0, err
    receive(run, store, "2026-000002", key, "--citizen-phone", "13800001111")
    assert b"13800001111" not in raw_events(store)

    for number, events in (("2026-000001", 2), ("2026-000002", 1)):
        code, out, err = run(store, "order", "show", number, "--format", "json", key=key)
        assert code == 0, err
        assert len(json.loads(out)["events"]) == events
    code, out, err = run(store, "projections", "rebuild", key=key)
    assert code == 0, err
    assert out.strip() == "read model rebuilt from 4 events; 2 orders"  # the key's record too
    refused(run(store, "order", "show", "2026-000002"), ENCRYPTED_ERROR)


def test_without_the_key_nothing_is_written_in_plaintext(
    run: Run, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = AESCipher.create_key(32)
    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)
    before = raw_events(store)
    lines = tmp_path / "new.jsonl"
    lines.write_text(
        json.dumps({"order": "2026-000002", "event": "received", "at": "2026-02-13T10:00:00",
                    "unit": "闵行区市场监管局", "kind": "complaint", "channel": "12345",
                    "citizen_phone": "13800002222"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    refused(run(store, "import", str(lines)), ENCRYPTED_ERROR)
    new_order = ("order", "receive", "2026-000003", "--unit", "闵行区市场监管局", "--kind",
                 "complaint", "--channel", "12345", "--citizen-phone", "13800003333")  # fmt: skip
    refused(run(store, *new_order), ENCRYPTED_ERROR)
    # eventsourcing would take HOTLINE_CIPHER_KEY from the environment; hotline does not.
    monkeypatch.setenv("HOTLINE_CIPHER_KEY", key)
    monkeypatch.setenv("HOTLINE_CIPHER_TOPIC", "eventsourcing.cryptography:AESCipher")
    refused(run(store, *new_order), ENCRYPTED_ERROR)
    assert raw_events(store) == before


def test_a_key_from_a_file_only_if_owner_only(
    run: Run, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "hotline.key"
    key_file.write_text(AESCipher.create_key(32) + "\n")
    key_file.chmod(0o640)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
    refused(
        run(store, "order", "show", "2026-000001"),
        f"hotline: HOTLINE_KEY_FILE {key_file} is open to group or others (mode 0640); "
        f"make it owner-only with chmod 600 {key_file}",
    )
    key_file.chmod(0o600)
    receive(run, store, "2026-000001", None, "--citizen-phone", PHONE)
    assert PHONE.encode() not in raw_events(store)
    code, _, err = run(store, "order", "show", "2026-000001")
    assert code == 0, err

    refused(
        run(store, "order", "show", "2026-000001", key=AESCipher.create_key(32)),
        "hotline: both HOTLINE_KEY and HOTLINE_KEY_FILE are set; unset one of them",
    )
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(tmp_path / "missing.key"))
    refused(
        run(store, "order", "show", "2026-000001"),
        f"hotline: cannot read HOTLINE_KEY_FILE {tmp_path / 'missing.key'}: "
        "No such file or directory",
    )


@pytest.mark.parametrize(
    "key", ["not a key", base64.b64encode(b"12345678").decode(), AESCipher.create_key(16) + "!"]
)
def test_a_malformed_key_is_one_line(run: Run, store: str, key: str) -> None:
    refused(
        run(store, "order", "show", "2026-000001", key=key),
        "hotline: HOTLINE_KEY is not a key (the base64 of 16, 24 or 32 bytes); "
        "make one with `hotline key generate`",
    )


def test_key_generate(run: Run, store: str) -> None:
    code, out, err = run(store, "key", "generate")
    assert code == 0, err
    key = out.strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    assert len(err.strip().splitlines()) == 1
    assert "HOTLINE_KEY" in err
    assert run(store, "key", "generate")[1].strip() != key

    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)
    assert PHONE.encode() not in raw_events(store)
    code, _, err = run(store, "order", "show", "2026-000001", key=key)
    assert code == 0, err


# The key is the store's: its fingerprint, recorded at the first encrypted write.


def short(key: str) -> str:
    return f"{fingerprint(key)[:8]}…"


def raw_store(store: str) -> bytes:
    """Everything the store keeps, raw: the SQLite files, or on PostgreSQL the events' state
    column and every other table's rows as text."""
    if "://" not in store:
        return raw_events(store)
    url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name <> 'hotline_events'"
        ).fetchall()
        rows = [
            text
            for (table,) in tables
            for (text,) in connection.execute(
                psycopg.sql.SQL("SELECT t::text FROM {} t").format(psycopg.sql.Identifier(table))
            ).fetchall()
        ]
    return raw_events(store) + "\n".join(rows).encode()


def stored_rows(store: str) -> dict[tuple[str, int], bytes]:
    """Every stored event's state by (aggregate id as hex, version), read with SQL."""
    if "://" not in store:
        with closing(sqlite3.connect(store)) as connection:
            found = connection.execute(
                "SELECT originator_id, originator_version, state FROM stored_events"
            ).fetchall()
        return {(i, v): bytes(s) for i, v, s in found}
    url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        found = connection.execute(
            "SELECT originator_id, originator_version, state FROM hotline_events"
        ).fetchall()
    return {(i.hex, v): bytes(s) for i, v, s in found}


def key_record(store: str, key: str | None) -> str | None:
    """The fingerprint the store records as its key (None: no record yet)."""
    with pytest.MonkeyPatch.context() as patch:
        if key:
            patch.setenv("HOTLINE_KEY", key)
        app = HotlineApplication(db=store)
        try:
            record = app.store_key()
        finally:
            app.close()
    return None if record is None else record.fingerprint


def forget_key_record(store: str) -> None:
    """Delete the store's key record: the store as hotline left it before it kept one."""
    if "://" not in store:
        with closing(sqlite3.connect(store)) as connection, connection:
            connection.execute(
                "DELETE FROM stored_events WHERE originator_id = ?", (STORE_KEY_ID.hex,)
            )
        return
    url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        connection.execute("DELETE FROM hotline_events WHERE originator_id = %s", (STORE_KEY_ID,))


def test_the_key_fingerprint_is_recorded_at_the_first_encrypted_write(run: Run, store: str) -> None:
    key = AESCipher.create_key(32)
    code, _, err = run(store, "report", "rates", "--period", "2026", key=key)
    assert code == 0, err
    assert key_record(store, key) is None and stored_events(store) == 0  # a read writes nothing
    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)
    assert key_record(store, key) == fingerprint(key)
    raw = raw_store(store)
    assert fingerprint(key).encode() in raw  # the fingerprint is kept in the clear
    assert key.encode() not in raw and base64.b64decode(key) not in raw  # never the key
    assert fingerprint(key) != fingerprint(AESCipher.create_key(32))
    code, out, err = run(store, "audit", "--format", "json", key=key)
    assert code == 0, err
    assert [(e["event"], e["detail"]) for e in json.loads(out)["rows"]] == [
        ("received", None),
        ("key_recorded", f"key {short(key)}"),
    ]


WRITES = {
    "order receive": ("order", "receive", "2026-000002", "--unit", "闵行区市场监管局",
                      "--kind", "投诉", "--channel", "12345", "--citizen-phone", "13800002222"),
    "order first-contact": ("order", "first-contact", "2026-000001", "--at", "2026-02-14 09:00"),
    "finding add": ("finding", "add", "--rubric", "shanghai-12345-2019", "--item",
                    "three_way_transfer", "--unit", "闵行区市场监管局", "--day", "2026-02-13",
                    "--note", "三方转接"),
    "calendar add-closure": ("calendar", "add-closure", "2026-03-04", "--reason", "台风"),
    "import": ("import", "IMPORT_FILE"),
}  # fmt: skip


@pytest.mark.parametrize("command", WRITES)
def test_a_wrong_key_writes_nothing(
    run: Run, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    key, wrong = AESCipher.create_key(32), AESCipher.create_key(32)
    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)
    lines = tmp_path / "new.jsonl"
    lines.write_text(
        json.dumps({"order": "2026-000003", "event": "received", "at": "2026-02-13T10:00:00",
                    "unit": "闵行区市场监管局", "kind": "complaint", "channel": "12345"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    args = [str(lines) if arg == "IMPORT_FILE" else arg for arg in WRITES[command]]
    before = stored_rows(store)
    refused(
        run(store, *args, key=wrong),
        f"hotline: HOTLINE_KEY is not this store's key (fingerprint {short(wrong)}, the "
        f"store's is {short(key)}); nothing was read or written",
    )
    key_file = tmp_path / "wrong.key"
    key_file.write_text(wrong)
    key_file.chmod(0o600)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
    refused(
        run(store, *args),
        f"hotline: HOTLINE_KEY_FILE {key_file} is not this store's key (fingerprint "
        f"{short(wrong)}, the store's is {short(key)}); nothing was read or written",
    )
    monkeypatch.delenv("HOTLINE_KEY_FILE")
    refused(run(store, *args), ENCRYPTED_ERROR)
    assert stored_rows(store) == before
    code, _, err = run(store, *args, key=key)  # the command itself was fine
    assert code == 0, err


@pytest.mark.parametrize("content", ["", "\n", "   \n"])
def test_an_empty_key_is_refused_never_no_encryption(
    run: Run,
    store: str,
    plain_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str,
) -> None:
    receive(run, plain_store, "2026-000001", None)  # a store without encryption
    key_file = tmp_path / "empty.key"
    key_file.write_text(content)
    key_file.chmod(0o600)
    new_order = ("order", "receive", "2026-000009", "--unit", "闵行区市场监管局", "--kind",
                 "complaint", "--channel", "12345", "--citizen-phone", PHONE)  # fmt: skip
    for db in (store, plain_store):
        monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
        refused(
            run(db, *new_order),
            f"hotline: HOTLINE_KEY_FILE {key_file} is empty; give the store's key, or unset it "
            "for a store without encryption (make a key with `hotline key generate`)",
        )
        monkeypatch.delenv("HOTLINE_KEY_FILE")
        refused(
            run(db, *new_order, key=content),
            "hotline: HOTLINE_KEY is empty; give the store's key, or unset it for a store "
            "without encryption (make a key with `hotline key generate`)",
        )
    monkeypatch.delenv("HOTLINE_KEY")
    assert stored_events(store) == 0
    assert PHONE.encode() not in raw_store(plain_store)
    assert stored_events(plain_store) == 1


def test_a_store_encrypted_before_hotline_kept_its_key_is_checked_by_its_events(
    run: Run, store: str
) -> None:
    key, wrong = AESCipher.create_key(32), AESCipher.create_key(32)
    receive(run, store, "2026-000001", key, "--citizen-phone", PHONE)
    forget_key_record(store)
    assert key_record(store, key) is None
    refused(
        run(store, *WRITES["order receive"], key=wrong),
        "hotline: HOTLINE_KEY is not this store's key (its events cannot be decrypted); set "
        "HOTLINE_KEY or HOTLINE_KEY_FILE to the key the store was written with",
    )
    refused(run(store, *WRITES["order receive"]), ENCRYPTED_ERROR)
    assert key_record(store, key) is None
    code, _, err = run(store, *WRITES["order receive"], key=key)
    assert code == 0, err
    assert key_record(store, key) == fingerprint(key)  # recorded at this first write
    refused(
        run(store, "order", "show", "2026-000001", key=wrong),
        f"hotline: HOTLINE_KEY is not this store's key (fingerprint {short(wrong)}, the "
        f"store's is {short(key)}); nothing was read or written",
    )


def test_a_mixed_store_checks_the_key_against_its_oldest_encrypted_event(
    run: Run, store: str
) -> None:
    """Plaintext events after encrypted ones (a key unset for a while, before hotline kept
    the record): the first write with a key decrypts the oldest encrypted event first."""
    key, wrong = AESCipher.create_key(32), AESCipher.create_key(32)
    receive(run, store, "2026-000001", key)
    forget_key_record(store)
    with pytest.MonkeyPatch.context() as patch:  # the newest event, plaintext
        patch.setenv("HOTLINE_KEY", key)
        app = HotlineApplication(db=store)
        order = Order.receive("2026-000005", at=now(), unit="闵行区市场监管局",
                              kind="complaint", channel="12345")  # fmt: skip
        plain = PydanticMapper(app.mapper.transcoder)
        app.recorder.insert_events([plain.to_stored_event(e) for e in order.collect_events()])
        app.close()
    before = stored_rows(store)
    refused(
        run(store, *WRITES["order receive"], key=wrong),
        "hotline: HOTLINE_KEY is not this store's key (its events cannot be decrypted); set "
        "HOTLINE_KEY or HOTLINE_KEY_FILE to the key the store was written with",
    )
    assert stored_rows(store) == before
    code, _, err = run(store, *WRITES["order receive"], key=key)
    assert code == 0, err


MARKERS = {
    "summary": "摘要MARKER1",
    "corrected": "更正MARKER2",
    "correction reason": "理由MARKER3",
    "reveal reason": "回访MARKER4",
    "finding note": "发现MARKER5",
    "withdrawal reason": "撤回MARKER6",
    "closure reason": "台风MARKER7",
}


def _free_texts(run: Run, store: str, key: str | None) -> tuple[str, str]:
    """Every kind of free text written, and read back; (audit trail, finding list) as JSON."""
    receive(run, store, "2026-000001", key, "--summary", MARKERS["summary"])
    for args in (
        ("order", "correct", "2026-000001", "--event", "received", "--field", "summary",
         "--value", MARKERS["corrected"], "--reason", MARKERS["correction reason"]),
        ("order", "show", "2026-000001", "--reveal", "--reason", MARKERS["reveal reason"]),
        ("calendar", "add-closure", "2026-03-04", "--reason", MARKERS["closure reason"]),
    ):  # fmt: skip
        code, _, err = run(store, *args, key=key)
        assert code == 0, err
    for note in (MARKERS["finding note"], "另一个"):
        code, _, err = run(store, *WRITES["finding add"][:-1], note, key=key)
        assert code == 0, err
    code, out, err = run(store, "finding", "list", "--period", "2026", "--format", "json", key=key)
    assert code == 0, err
    withdrawn = next(f["id"] for f in json.loads(out)["rows"] if f["note"] == "另一个")
    code, _, err = run(
        store, "finding", "withdraw", withdrawn, "--reason", MARKERS["withdrawal reason"], key=key
    )
    assert code == 0, err
    audit = run(store, "audit", "--format", "json", key=key)
    findings = run(store, "finding", "list", "--period", "2026", "--format", "json", key=key)
    assert audit[0] == findings[0] == 0, audit[2] + findings[2]
    return audit[1], findings[1]


def test_free_text_outside_the_events_is_not_stored_in_the_clear(
    run: Run, store: str, plain_store: str
) -> None:
    key = AESCipher.create_key(32)
    shown = _free_texts(run, store, key)
    raw = raw_store(store)
    assert [what for what, marker in MARKERS.items() if marker.encode() in raw] == []
    # Shown as written, and as a store without encryption shows them (which keeps them in
    # the clear: the check works).
    plain = _free_texts(run, plain_store, None)
    raw_plain = raw_store(plain_store)
    assert all(marker.encode() in raw_plain for marker in MARKERS.values())
    for text in ("corrected", "correction reason", "reveal reason", "withdrawal reason"):
        assert MARKERS[text] in shown[0]
    assert MARKERS["finding note"] in shown[1]
    assert _without_times(shown[0]) == _without_times(plain[0])
    assert json.loads(shown[1])["rows"][0]["note"] == json.loads(plain[1])["rows"][0]["note"]


def _without_times(audit: str) -> list[tuple[str, str | None]]:
    """An audit trail's (event, detail), but the key's own records."""
    return [
        (row["event"], row["detail"])
        for row in json.loads(audit)["rows"]
        if not row["event"].startswith("key_")
    ]
