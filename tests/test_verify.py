"""Tamper evidence: `hotline verify` names each stored event altered, moved or removed.

The store is edited with raw SQL on eventsourcing's table, as someone with database access
but not hotline would; on SQLite and on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy.engine import make_url

from hotline.cli.main import main
from hotline.domain.aggregate import SHANGHAI, first_link, link
from hotline.domain.order import Order, order_id
from hotline.service.application import HotlineApplication
from hotline.service.importer import RESERVED_FIELDS
from hotline.service.verify import verify
from stores import postgres_server
from test_audit import MINHANG, handled

Cli = Callable[..., tuple[int, str, str]]
KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_KEY_FILE", raising=False)


class Table:
    """Raw SQL on the store's event table (SQLite or PostgreSQL), by order number and version."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.postgres = "://" in store

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.postgres:
            url = make_url(self.store).set(drivername="postgresql")
            with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
                yield connection.cursor()
        else:
            import sqlite3

            connection = sqlite3.connect(self.store)
            try:
                with connection:
                    yield connection.cursor()
            finally:
                connection.close()

    def _run(self, statement: str, *values: Any) -> list[Any]:
        table = "hotline_events" if self.postgres else "stored_events"
        statement = statement.replace("EVENTS", table)
        if self.postgres:
            statement = statement.replace("?", "%s")
        with self._cursor() as cursor:
            cursor.execute(statement, values)
            return list(cursor.fetchall()) if cursor.description else []

    def _id(self, number: str) -> Any:
        key = order_id(number)
        return key if self.postgres else key.hex

    def state(self, number: str, version: int) -> bytes:
        rows = self._run(
            "SELECT state FROM EVENTS WHERE originator_id = ? AND originator_version = ?",
            self._id(number),
            version,
        )
        return bytes(rows[0][0])

    def set_state(self, number: str, version: int, state: bytes) -> None:
        self._run(
            "UPDATE EVENTS SET state = ? WHERE originator_id = ? AND originator_version = ?",
            state,
            self._id(number),
            version,
        )

    def set_topic(self, number: str, version: int, topic: str) -> None:
        self._run(
            "UPDATE EVENTS SET topic = ? WHERE originator_id = ? AND originator_version = ?",
            topic,
            self._id(number),
            version,
        )

    def delete(self, number: str, version: int) -> None:
        self._run(
            "DELETE FROM EVENTS WHERE originator_id = ? AND originator_version = ?",
            self._id(number),
            version,
        )

    def move(self, number: str, version: int, to: str, to_version: int) -> None:
        self._run(
            "UPDATE EVENTS SET originator_id = ?, originator_version = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            self._id(to),
            to_version,
            self._id(number),
            version,
        )


def orders(cli: Cli) -> None:
    """A, B, C: received, contacted, closed (3 events each); the read model caught up."""
    for number in ("A", "B", "C"):
        handled(cli, number)
    assert cli("projections", "status")[0] == 0
    assert cli("report", "rates", "--unit", MINHANG, "--period", "2026-03")[0] == 0


def problems(cli: Cli) -> list[str]:
    """`hotline verify`'s lines, which must say the store has problems."""
    code, out, err = cli("verify")
    assert code == 1, out
    assert err.startswith("hotline: ") and "problem" in err and err.count("\n") == 1, err
    return out.splitlines()


def test_a_clean_store_verifies_clean_after_every_kind_of_write(cli: Cli) -> None:
    orders(cli)
    steps = [
        ("order", "correct", "A", "--event", "closed", "--field", "result", "--value",
         "explained", "--reason", "录入错误"),
        ("order", "show", "B", "--reveal", "--reason", "回访核实"),
        ("finding", "add", "--rubric", "market-office-2017", "--item", "data_standard",
         "--unit", MINHANG, "--day", "2026-03-05", "--note", "字段缺失"),
        ("calendar", "add-closure", "2026-09-16", "--reason", "台风停工"),
        ("calendar", "withdraw-closure", "2026-09-16", "--reason", "误报"),
        ("scheduler", "tick", "--as-of", "2026-03-05 08:00"),
    ]  # fmt: skip
    for step in steps:
        code, _, err = cli(*step)
        assert code == 0, (step, err)
    code, out, err = cli("verify")
    assert (code, err) == (0, ""), out
    assert out.endswith(": no problems\n") and out.startswith("1"), out
    assert cli("verify", "--order", "A")[1] == "4 events of 1 record checked: no problems\n"
    code, out, _ = cli("projections", "rebuild")
    assert code == 0 and out.startswith("read model rebuilt"), out


def test_an_imported_store_verifies_clean(app: HotlineApplication, store: str, cli: Cli) -> None:
    from hotline.service.importer import Importer

    lines = [
        json.dumps({"order": "I-1", "event": "received", "at": "2026-03-02T09:00:00+08:00",
                    "unit": MINHANG, "kind": "complaint", "channel": "12345"}).encode(),
        json.dumps({"order": "I-1", "event": "first_contact",
                    "at": "2026-03-03T09:00:00+08:00", "method": "phone"}).encode(),
    ]  # fmt: skip
    assert Importer(app).run(lines).written == 2
    assert Importer(app).run(lines).already_present == 2  # the cached order chains on
    handled(cli, "A")
    found = verify(app)
    assert found.clean and (found.events, found.unchained) == (5, 0), found.problems


def test_chain_is_set_by_hotline_not_by_a_line() -> None:
    assert "chain" in RESERVED_FIELDS


def test_an_event_altered_in_place_is_named(store: str, cli: Cli) -> None:
    orders(cli)
    table = Table(store)
    handled(cli, "D")
    assert cli("order", "rate", "D", "--rating", "satisfied", "--at", "2026-03-11 10:00")[0] == 0
    for number, version in (("A", 2), ("B", 3), ("D", 2)):
        state = table.state(number, version)
        assert b"T10:00:00+08:00" in state
        table.set_state(number, version, state.replace(b"T10:00:00+08:00", b"T11:00:00+08:00"))
    assert sorted(problems(cli)) == [
        # A and B as the read model applied them: any event, the newest too
        "order A event #2 (first_contact): altered — its state is not the one the read model "
        "applied (edited, or another's)",
        "order B event #3 (closed): altered — its state is not the one the read model applied "
        "(edited, or another's)",
        # D after it: the chain
        "order D event #2 (first_contact): altered — its state does not match the chain of #3",
    ]


def test_an_event_made_unreadable_is_named(store: str, cli: Cli) -> None:
    orders(cli)
    table = Table(store)
    table.set_state("B", 3, table.state("B", 3).replace(b'"result"', b'"outcome"'))
    (line,) = problems(cli)
    assert line.startswith("order B event #3 (closed): altered — its state is not a valid closed")


def test_an_event_given_another_type_is_named_and_no_module_it_names_is_imported(
    store: str, cli: Cli
) -> None:
    orders(cli)
    table = Table(store)
    table.set_topic("A", 2, "hotline.domain.order:Closed")
    table.set_topic("B", 2, "this_module_is_not_there:Thing")
    assert sorted(problems(cli)) == [
        "order A event #2 (closed): altered — its state is not a valid closed event: result: "
        "Field required; by: Extra inputs are not permitted; method: Extra inputs are not "
        "permitted",
        "order B event #2 (Thing): altered — its type 'this_module_is_not_there:Thing' is not "
        "an event hotline knows",
    ]


def test_two_events_of_an_order_swapped_are_named(store: str, cli: Cli) -> None:
    orders(cli)
    handled(cli, "D")
    assert cli("order", "rate", "D", "--rating", "satisfied", "--at", "2026-03-11 10:00")[0] == 0
    table = Table(store)
    table.set_state("D", 2, table.state("D", 3))  # closed's state in first_contact's row
    lines = problems(cli)
    assert lines[0].startswith("order D event #2 (first_contact): altered"), lines
    assert len(lines) == 1, lines


def test_states_swapped_between_orders_are_named(store: str, cli: Cli) -> None:
    orders(cli)
    table = Table(store)
    a, b = table.state("A", 2), table.state("B", 2)
    table.set_state("A", 2, b)
    table.set_state("B", 2, a)
    assert sorted(problems(cli)) == [
        "order A event #2 (first_contact): moved or replaced — it does not follow #1, nor does "
        "#3 follow it",
        "order B event #2 (first_contact): moved or replaced — it does not follow #1, nor does "
        "#3 follow it",
    ]


def test_an_event_removed_in_the_middle_or_at_the_end_is_named(store: str, cli: Cli) -> None:
    orders(cli)
    table = Table(store)
    table.delete("A", 2)
    table.delete("B", 3)
    lines = problems(cli)
    assert (
        "order A event #2 (first_contact): removed — in the read model's audit trail but not in the store"
        in lines
    )
    assert (
        "order B event #3 (closed): removed — in the read model's audit trail but not in the store"
        in lines
    )
    positions = [line for line in lines if line.startswith("the store: removed")]
    assert len(positions) == (0 if table.postgres else 2), lines


def test_an_event_removed_before_the_read_model_saw_it_is_named_by_its_gap(
    store: str, cli: Cli
) -> None:
    for number in ("A", "B"):
        handled(cli, number)  # the read model has not caught up
    Table(store).delete("A", 2)
    assert problems(cli) == [
        "order A event #2 (?): removed — the stored versions go from #1 to a later one",
        *(
            []
            if "://" in store
            else ["the store: removed — no event at position 2 of the notification log "
                  "(SQLite never skips one): deleted rows"]
        ),
    ]  # fmt: skip


def test_an_event_moved_to_another_order_is_named(store: str, cli: Cli) -> None:
    orders(cli)
    Table(store).move("A", 3, "B", 4)
    assert problems(cli) == [
        "order A event #3 (closed): removed — in the read model's audit trail but not in the store",
        "order B event #4 (closed): moved or inserted — the read model applied the store past "
        "it, but not this event",
    ]


def test_a_first_event_moved_to_a_new_order_is_named(store: str, cli: Cli) -> None:
    handled(cli, "A")  # the read model has not caught up: only the chain can tell
    Table(store).move("A", 1, "Z", 1)
    lines = problems(cli)
    assert sorted(lines) == sorted(
        [
            f"order {order_id('A')} event #1 (?): removed — the stored versions start at a later one",
            f"order {order_id('Z')} event #1 (received): moved or replaced — its chain is not that of "
            "this aggregate's first event",
        ]
    )


def test_a_rebuild_refuses_a_tampered_store_and_keeps_the_read_model(store: str, cli: Cli) -> None:
    orders(cli)
    Table(store).delete("C", 3)
    code, out, err = cli("projections", "rebuild")
    assert code == 1
    assert "order C event #3 (closed): removed" in out
    assert "the read model was not rebuilt" in err and err.count("\n") == 1
    assert "order C event #3 (closed): removed" in cli("verify")[1]  # the evidence stays
    code, out, err = cli("projections", "rebuild", "--despite-problems")
    assert code == 0, err
    assert "order C event #3 (closed): removed" in out  # said, then rebuilt all the same
    assert out.endswith("read model rebuilt from 8 events; 3 orders\n"), out
    assert cli("verify")[0] == 0  # its evidence is gone with the read model


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_KEY", KEY)


@pytest.mark.usefixtures("keyed")
def test_encrypted_states_flipped_or_swapped_between_orders_are_named(store: str, cli: Cli) -> None:
    orders(cli)
    table = Table(store)
    flipped = bytearray(table.state("C", 2))
    flipped[-1] ^= 1
    table.set_state("C", 2, bytes(flipped))
    a, b = table.state("A", 3), table.state("B", 3)
    table.set_state("A", 3, b)
    table.set_state("B", 3, a)
    assert sorted(problems(cli)) == [
        "order A event #3 (closed): altered — its state is not the one the read model applied "
        "(edited, or another's)",
        "order B event #3 (closed): altered — its state is not the one the read model applied "
        "(edited, or another's)",
        "order C event #2 (first_contact): altered — its state cannot be decrypted with the "
        "store's key",
    ]
    assert cli("projections", "rebuild")[0] == 1
    Table(store).set_state("A", 3, a)
    Table(store).set_state("B", 3, b)
    flipped[-1] ^= 1
    table.set_state("C", 2, bytes(flipped))
    assert cli("verify")[0] == 0  # put back: clean again


@pytest.mark.usefixtures("keyed")
def test_encrypted_newest_states_swapped_before_the_read_model_saw_them_are_named(
    store: str, cli: Cli
) -> None:
    for number in ("A", "B"):
        handled(cli, number)
    table = Table(store)
    a, b = table.state("A", 3), table.state("B", 3)
    table.set_state("A", 3, b)
    table.set_state("B", 3, a)
    assert sorted(problems(cli)) == [
        "order A event #3 (closed): altered or moved — it does not follow #2: #2 was altered, "
        "or #3 was moved here or replaced",
        "order B event #3 (closed): altered or moved — it does not follow #2: #2 was altered, "
        "or #3 was moved here or replaced",
    ]


@pytest.mark.usefixtures("keyed")
def test_a_plaintext_state_forged_into_an_encrypted_store_is_named(
    app: HotlineApplication, store: str, cli: Cli
) -> None:
    """Someone without the key writes the plaintext an event would have, chain and all: the
    chain holds, but an encrypted store holds no plaintext after its first encrypted event."""
    orders(cli)
    table = Table(store)
    cipher = AESCipher(_env(KEY))
    plain = cipher.decrypt(table.state("A", 3)[len(b"\x00hotline-aes1\x00") :])
    table.set_state("A", 3, plain.replace(b'"resolved"', b'"explained"'))
    lines = problems(cli)
    assert lines == [
        "order A event #3 (closed): not encrypted — stored in plaintext after the store's "
        "first encrypted event: written without the key, or forged"
    ]


def _env(key: str) -> Any:
    from eventsourcing.utils import Environment

    return Environment(env={"CIPHER_KEY": key})


def test_events_written_before_the_chain_are_legacy_and_the_next_chains_to_them(
    app: HotlineApplication, store: str, cli: Cli
) -> None:
    handled(cli, "A")
    table = Table(store)
    for version in (1, 2, 3):  # as hotline wrote them before it chained events
        state = json.loads(table.state("A", version))
        del state["chain"]
        table.set_state("A", version, json.dumps(state).encode())
    assert cli("order", "rate", "A", "--rating", "satisfied", "--at", "2026-03-11 10:00")[0] == 0
    found = verify(app)
    assert found.clean, found.problems
    assert (found.events, found.unchained) == (4, 3)
    code, out, _ = cli("verify")
    assert code == 0 and "(3 from before events were chained; " in out, out
    assert out.endswith("): no problems\n"), out
    table.set_state("A", 3, table.state("A", 3).replace(b'"resolved"', b'"explained"'))
    assert problems(cli) == [
        "order A event #4 (rated): altered or moved — it does not follow #3: #3 was altered, or "
        "#4 was moved here or replaced"
    ]


def test_verify_reads_the_store_and_writes_nothing(store: str, cli: Cli) -> None:
    orders(cli)
    before = Table(store)._run("SELECT count(*) FROM EVENTS")
    assert cli("verify")[0] == 0
    assert Table(store)._run("SELECT count(*) FROM EVENTS") == before
    assert main(["--db", store, "verify", "--order", "nope"]) == 1


@pytest.mark.usefixtures("keyed")
def test_verify_with_another_key_or_none_is_refused_in_one_line(
    store: str, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    handled(cli, "A")
    monkeypatch.setenv("HOTLINE_KEY", base64.b64encode(b"w" * 32).decode())
    code, out, err = cli("verify")
    assert (code, out) == (1, "")
    assert err.startswith("hotline: HOTLINE_KEY is not this store's key") and err.count("\n") == 1
    monkeypatch.delenv("HOTLINE_KEY")
    code, out, err = cli("verify")
    assert (code, out) == (1, "")
    assert err.startswith("hotline: the store holds encrypted events") and err.count("\n") == 1


def test_each_new_event_chains_to_the_one_before_it_as_it_will_be_stored() -> None:
    order = Order.receive(
        "U-1", at=datetime(2026, 3, 2, 9, tzinfo=SHANGHAI), unit=MINHANG, kind="complaint",
        channel="12345",
    )  # fmt: skip
    order.contact(at=datetime(2026, 3, 3, 9, tzinfo=SHANGHAI))
    order.attribute_to("王芳", lambda event: f"{event.originator_version:064x}")
    assert [e.chain for e in order.history] == [first_link(order.id), f"{1:064x}"]
    assert [e.actor for e in order.history] == ["王芳", "王芳"]
    assert order.chain_head == f"{2:064x}"  # what the next event will chain to
    assert first_link(order.id) != first_link(order_id("U-2"))
    state = b'{"chain":null}'
    assert link(order.id, 1, "t", state) != link(order.id, 2, "t", state)
    assert link(order.id, 1, "t", state) != link(order_id("U-2"), 1, "t", state)
    assert link(order.id, 1, "t", state) != link(order.id, 1, "u", state)


def test_a_row_without_a_proper_id_or_version_is_named(db: Path, cli: Cli) -> None:
    """SQLite's columns take any type: such a row is a problem, not an internal error."""
    if postgres_server() is not None:
        pytest.skip("PostgreSQL's columns are typed")
    orders(cli)
    table = Table(str(db))
    table._run("UPDATE EVENTS SET originator_id = 'not an id' WHERE rowid = 2")
    table._run("UPDATE EVENTS SET originator_version = 'x' WHERE rowid = 5")
    lines = problems(cli)
    assert (
        "the store: altered — the row at position 2 has no aggregate id or version as hotline writes them"
        in lines
    )
    assert (
        "the store: altered — the row at position 5 has no aggregate id or version as hotline writes them"
        in lines
    )
    assert (
        "order A event #2 (first_contact): removed — in the read model's audit trail but not in the store"
        in lines
    )


def test_a_newest_event_the_read_model_has_not_applied_is_said_to_be_unconfirmed(
    cli: Cli,
) -> None:
    orders(cli)  # the read model caught up: every event confirmed by the trail or a link
    assert cli("verify")[1] == "9 events of 3 records checked: no problems\n"
    assert cli("order", "rate", "A", "--rating", "satisfied", "--at", "2026-03-11 10:00")[0] == 0
    assert cli("verify")[1] == (
        "10 events of 3 records checked (1 newest not yet in the read model, their own state "
        "unconfirmed): no problems\n"
    )
    assert cli("report", "rates", "--unit", MINHANG, "--period", "2026-03")[0] == 0
    assert cli("verify")[1] == "10 events of 3 records checked: no problems\n"
