"""Personal data encrypted at rest when a key is configured (HOTLINE_KEY, HOTLINE_KEY_FILE)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy.engine import make_url

from hotline.cli.main import main

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
    monkeypatch.delenv("HOTLINE_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_KEY_FILE", raising=False)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`run(store, *args, key=KEY)`: `hotline --db STORE ARGS...` with HOTLINE_KEY set to KEY
    (None: unset); (exit code, stdout, stderr)."""

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
        store, "order", "contact", "2026-000001", "--at", "2026-02-14 09:00", key=key
    )
    assert code == 0, err

    raw = raw_events(store)
    assert PHONE.encode() not in raw
    assert NAME.encode() not in raw
    code, out, err = run(store, "order", "show", "2026-000001", "--json", key=key)
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
    receive(run, store, "2026-000001", AESCipher.create_key(32), "--citizen-phone", PHONE)
    wrong = AESCipher.create_key(32)
    message = (
        "hotline: HOTLINE_KEY is not this store's key (its events cannot be decrypted); "
        "set HOTLINE_KEY or HOTLINE_KEY_FILE to the key the store was written with"
    )
    refused(run(store, "order", "show", "2026-000001", key=wrong), message)
    refused(run(store, "report", "rates", "--period", "2026", key=wrong), message)
    refused(run(store, "projections", "rebuild", key=wrong), message)


def test_plaintext_events_stay_readable_once_a_key_is_configured(run: Run, store: str) -> None:
    receive(run, store, "2026-000001", None, "--citizen-name", NAME, "--citizen-phone", PHONE)
    assert PHONE.encode() in raw_events(store)  # written before the key: plaintext
    key = AESCipher.create_key(24)
    code, _, err = run(
        store, "order", "contact", "2026-000001", "--at", "2026-02-14 09:00", key=key
    )
    assert code == 0, err
    receive(run, store, "2026-000002", key, "--citizen-phone", "13800001111")
    assert b"13800001111" not in raw_events(store)

    for number, events in (("2026-000001", 2), ("2026-000002", 1)):
        code, out, err = run(store, "order", "show", number, "--json", key=key)
        assert code == 0, err
        assert len(json.loads(out)["events"]) == events
    code, out, err = run(store, "projections", "rebuild", key=key)
    assert code == 0, err
    assert out.strip() == "read model rebuilt from 3 events; 2 orders"
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
