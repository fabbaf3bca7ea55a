"""`hotline key rotate`: every event re-encrypted in place with a new key, crash-safe.

Killed with SIGKILL at random points (seeded; HOTLINE_CRASH_SEED=N repeats a run), every event
stays readable with one key of the pair, and the same command run again finishes the job;
afterwards the old key is refused by every command, the new one accepted, and each event's
plaintext bytes are what they were.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from hotline.adapters.eventstore import ENCRYPTED, PydanticMapper, fingerprint
from hotline.domain.aggregate import now
from hotline.domain.order import Order, order_id
from hotline.domain.store_key import StoreKey, StoreKeyError
from hotline.service.application import HotlineApplication
from hotline.service.key_rotation import rotate_key
from test_crash import _kill_when
from test_encryption import (
    GENERATOR,
    MARKERS,
    PHONE,
    WRITES,
    Run,
    _free_texts,
    raw_store,
    receive,
    refused,
    runner,
    short,
    stored_rows,
    without_keys,
)

SEED_ENV = "HOTLINE_CRASH_SEED"
KILLS = 3
TIMEOUT = 120.0
ROTATE_BATCH = 20
SMALL_BATCHES = [
    sys.executable,
    "-c",
    "import sys; from hotline.service import key_rotation; "
    f"key_rotation.rotate_key.__defaults__ = (None, {ROTATE_BATCH}); "
    "from hotline.cli.main import main; sys.exit(main(sys.argv[1:]))",
]
"""`hotline` with the rotation's batches of ROTATE_BATCH events instead of 2,000, so that a
kill finds it between two of its many transactions, or in one."""
REPORTS = (
    ("report", "rates", "--period", "2019", "--format", "json"),
    ("orders", "overdue", "--format", "json"),
    ("report", "scores", "--rubric", "shanghai-12345-2019", "--period", "2019", "--format", "json"),
)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key from the environment the tests run in."""
    without_keys(monkeypatch)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """As in test_encryption: `run(store, *args, key=KEY)`."""
    return runner(monkeypatch, capsys)


def key_file(tmp_path: Path, name: str, key: str) -> Path:
    path = tmp_path / name
    path.write_text(key + "\n")
    path.chmod(0o600)
    return path


def plaintexts(store: str, *keys: str) -> dict[tuple[str, int], bytes]:
    """Every event's plaintext state, each decrypted with whichever of `keys` it is encrypted
    with (an assertion error if none is)."""
    ciphers = [AESCipher(Environment(env={"CIPHER_KEY": key})) for key in keys]
    found = {}
    for where, state in stored_rows(store).items():
        if not state.startswith(ENCRYPTED):
            found[where] = state
            continue
        for cipher in ciphers:
            try:
                found[where] = cipher.decrypt(state[len(ENCRYPTED) :])
                break
            except ValueError:
                continue
        else:
            raise AssertionError(f"event {where} is readable with none of the keys")
    return found


def encrypted_with(store: str, key: str) -> int:
    """How many stored events `key` decrypts."""
    cipher = AESCipher(Environment(env={"CIPHER_KEY": key}))
    count = 0
    for state in stored_rows(store).values():
        try:
            cipher.decrypt(state[len(ENCRYPTED) :])
        except ValueError:
            continue
        count += state.startswith(ENCRYPTED)
    return count


def rotating_to(store: str, key: str) -> str | None:
    """The fingerprint of the key the store's rotation is under way to (None: none is), read
    with `key`, the rotation's new key."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOTLINE_KEY", key)
        app = HotlineApplication(db=store, rotating=True)
        try:
            record = app.store_key()
        finally:
            app.close()
    return None if record is None else record.rotating_to


def rotating_message(old: str | None, new: str) -> str:
    return (
        f"hotline: a rotation of the store's key from {short(old) if old else 'none (plaintext)'} "
        f"to {short(new)} was started and has not finished; run `hotline key rotate "
        "--new-key-file FILE` again with the same keys to finish it"
    )


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("year") / "year.jsonl"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--orders", "200", "--seed", "3", "--output", str(path)],
        check=True, capture_output=True, timeout=TIMEOUT,
    )  # fmt: skip
    return path


def reports(hotline: Run, store: str, key: str | None) -> list[str]:
    outputs = []
    for report in REPORTS:
        code, out, err = hotline(store, *report, key=key)
        assert code == 0, err
        outputs.append(out)
    return outputs


def test_a_rotation_re_encrypts_every_event_and_only_the_new_key_opens_the_store(
    run: Run,
    store: str,
    year: Path,
    tmp_path: Path,
) -> None:
    old, new = AESCipher.create_key(32), AESCipher.create_key(32)
    code, _, err = run(store, "import", str(year), key=old)
    assert code == 0, err
    audit, findings = _free_texts(run, store, old)
    before = reports(run, store, old)
    plain = plaintexts(store, old)
    old_states = stored_rows(store)
    encrypted = encrypted_with(store, old)

    code, out, err = run(
        store, "key", "rotate", "--new-key-file", str(key_file(tmp_path, "new.key", new)), key=old
    )
    assert code == 0, err
    assert encrypted == len(plain) - 1  # all but the key's record
    assert out.strip() == (
        f"key rotated from {short(old)} to {short(new)}: {encrypted} events re-encrypted (0 "
        "done by an earlier run); use the new key from now on (the read model is rebuilt by "
        "the next report)"
    )
    assert {k: v for k, v in plaintexts(store, new).items() if k in plain} == plain
    assert encrypted_with(store, new) == encrypted and encrypted_with(store, old) == 0
    for args in (("order", "show", "2026-000001"), *REPORTS[:1], WRITES["order receive"],
                 WRITES["finding add"], ("audit",), ("projections", "rebuild")):  # fmt: skip
        refused(
            run(store, *args, key=old),
            f"hotline: HOTLINE_KEY is not this store's key (fingerprint {short(old)}, the "
            f"store's is {short(new)}); nothing was read or written",
        )
    assert reports(run, store, new) == before
    code, out, err = run(store, "verify", key=new)  # the key's plaintext record included
    assert code == 0, err + out
    code, out, err = run(store, "audit", "--format", "json", key=new)
    assert code == 0, err
    trail, rotated = json.loads(audit)["rows"], json.loads(out)["rows"]
    assert rotated[: len(trail)] == trail
    assert [row["event"] for row in rotated[len(trail) :]] == [
        "key_rotation_started",
        "key_rotation_finished",
    ]
    assert run(store, "finding", "list", "--period", "2026", "--format", "json", key=new)[1] == (
        findings
    )
    raw = raw_store(store)
    assert [what for what, marker in MARKERS.items() if marker.encode() in raw] == []
    if "://" not in store:  # the file was compacted: no old state is left in a free page
        rewritten = [s for k, s in old_states.items() if stored_rows(store)[k] != s]
        assert len(rewritten) == encrypted
        assert [s for s in rewritten if s[-40:] in raw] == []


def test_a_store_without_a_key_is_encrypted_by_a_rotation(
    run: Run,
    store: str,
    tmp_path: Path,
) -> None:
    receive(run, store, "2026-000001", None, "--citizen-phone", PHONE)
    code, _, err = run(store, "order", "first-contact", "2026-000001", "--at", "2026-02-14 09:00")
    assert code == 0, err
    assert PHONE.encode() in raw_store(store)
    plain = plaintexts(store)
    new = AESCipher.create_key(32)
    code, out, err = run(
        store, "key", "rotate", "--new-key-file", str(key_file(tmp_path, "new.key", new))
    )
    assert code == 0, err
    assert out.startswith(f"key rotated from none (plaintext) to {short(new)}: 2 events")
    assert PHONE.encode() not in raw_store(store)
    assert {k: v for k, v in plaintexts(store, new).items() if k in plain} == plain
    assert encrypted_with(store, new) == 2
    refused(
        run(store, "order", "show", "2026-000001"),
        "hotline: the store holds encrypted events; set HOTLINE_KEY or HOTLINE_KEY_FILE to the "
        "store's key",
    )
    code, out, err = run(store, "order", "show", "2026-000001", "--format", "json", key=new)
    assert code == 0, err
    assert [e["event"] for e in json.loads(out)["events"]] == ["received", "first_contact"]
    code, out, err = run(store, "verify", key=new)  # chains kept through the re-encryption
    assert code == 0, err + out


class Stop(Exception):
    """The rotation stopped after its first batch, as if killed."""


def test_an_unfinished_rotation_is_refused_until_it_is_run_again(
    run: Run,
    store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new, other = (AESCipher.create_key(32) for _ in range(3))
    for number in ("2026-000001", "2026-000002", "2026-000003"):
        receive(run, store, number, old, "--citizen-phone", PHONE)
    monkeypatch.setenv("HOTLINE_KEY", old)
    app = HotlineApplication(db=store, rotating=True)

    def stop(position: int, head: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        rotate_key(app, new, progress=stop, batch_size=3)
    app.close()
    assert encrypted_with(store, new) == 2 and encrypted_with(store, old) == 1
    for key in (old, new):
        for args in (("order", "show", "2026-000001"), REPORTS[0], WRITES["order receive"]):
            refused(run(store, *args, key=key), rotating_message(old, new))
    refused(
        run(store, "key", "rotate", "--new-key-file", str(key_file(tmp_path, "o.key", other)),
            key=old),
        f"hotline: a rotation to the key {short(new)} is under way; give that key with "
        f"--new-key-file (this one is {short(other)}) to finish it",
    )  # fmt: skip
    new_file = key_file(tmp_path, "new.key", new)
    refused(
        run(store, "key", "rotate", "--new-key-file", str(new_file), key=new),
        f"hotline: a rotation from the key {short(old)} to {short(new)} is under way; give the "
        "old key in HOTLINE_KEY or HOTLINE_KEY_FILE, and the new one with --new-key-file, to "
        "finish it",
    )
    code, out, err = run(store, "key", "rotate", "--new-key-file", str(new_file), key=old)
    assert code == 0, err
    assert "1 event re-encrypted (2 done by an earlier run)" in out
    code, _, err = run(store, "order", "show", "2026-000003", key=new)
    assert code == 0, err
    refused(
        run(store, "key", "rotate", "--new-key-file", str(new_file), key=new),
        f"hotline: the new key is the store's key already ({short(new)})",
    )


def test_an_event_of_another_key_is_left_as_it_was_and_named(
    run: Run, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event written with a wrong key before hotline checked keys (issue 14) does not stop
    a rotation: it is reported, and left as it was."""
    old, new, stray = (AESCipher.create_key(32) for _ in range(3))
    receive(run, store, "2026-000001", old)
    monkeypatch.setenv("HOTLINE_KEY", old)
    app = HotlineApplication(db=store)
    order = Order.receive("W-2", at=now(), unit="闵行区市场监管局", kind="complaint",
                          channel="12345")  # fmt: skip
    wrong = PydanticMapper(
        app.mapper.transcoder, cipher=AESCipher(Environment(env={"CIPHER_KEY": stray}))
    )
    app.recorder.insert_events([wrong.to_stored_event(e) for e in order.collect_events()])
    app.close()
    left = stored_rows(store)[(order_id("W-2").hex, 1)]
    code, out, err = run(
        store, "key", "rotate", "--new-key-file", str(key_file(tmp_path, "new.key", new)), key=old
    )
    assert code == 0
    assert "1 event re-encrypted" in out
    assert err.strip() == (
        "hotline: 1 event was encrypted with neither key and is left as it was "
        f"(aggregate id #version: {order_id('W-2')} #1)"
    )
    assert stored_rows(store)[(order_id("W-2").hex, 1)] == left
    code, _, err = run(store, "order", "show", "2026-000001", key=new)
    assert code == 0, err


def test_the_store_key_takes_one_rotation_at_a_time_to_another_key() -> None:
    first, second, third = (fingerprint(AESCipher.create_key(32)) for _ in range(3))
    record = StoreKey.record(first, now())
    with pytest.raises(StoreKeyError, match="the new key is the store's key already"):
        record.start_rotation(now(), first)
    record.start_rotation(now(), second)
    with pytest.raises(StoreKeyError, match=f"a rotation to key {second[:8]}… is under way"):
        record.start_rotation(now(), third)
    record.finish_rotation(now())
    assert (record.fingerprint, record.rotating_to, record.version) == (second, None, 3)


# Killed with SIGKILL, then run again.


@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    print(f"kill points from seed {seed}: repeat with {SEED_ENV}={seed}")
    return random.Random(seed)


def test_a_rotation_killed_at_random_moments_is_finished_by_running_it_again(
    run: Run,
    store: str,
    year: Path,
    tmp_path: Path,
    rng: random.Random,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = AESCipher.create_key(32), AESCipher.create_key(32)
    code, _, err = run(store, "import", str(year), key=old)
    assert code == 0, err
    before = reports(run, store, old)
    plain = plaintexts(store, old)
    events = encrypted_with(store, old)
    command = [*SMALL_BATCHES, "--db", store, "key", "rotate", "--new-key-file",
               str(key_file(tmp_path, "new.key", new))]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_KEY")}
    killed = 0
    for attempt in range(KILLS):
        done = encrypted_with(store, new)
        goal = rng.randint(done, done + (events - done) // 2)
        with (tmp_path / f"rotate-{attempt}.err").open("wb") as err_file:
            process = subprocess.Popen(
                command, env=env | {"HOTLINE_KEY": old}, stdout=subprocess.DEVNULL,
                stderr=err_file,
            )  # fmt: skip
        if not _kill_when(process, lambda g=goal: encrypted_with(store, new) >= g, rng):
            break  # it finished first
        killed += 1
        with capsys.disabled():  # `run` captures the rest
            print(f"rotation {attempt} killed at {encrypted_with(store, new)} of {events}")
        # Every event is readable with one key of the pair, and is what it was.
        assert {k: v for k, v in plaintexts(store, old, new).items() if k in plain} == plain
        assert (tmp_path / f"rotate-{attempt}.err").read_text() == ""
    if under_way := rotating_to(store, new) == fingerprint(new):  # every command waits
        refused(run(store, *REPORTS[0], key=old), rotating_message(old, new))
    assert killed, "every rotation ended before it was killed"
    if under_way:  # (not if the last kill came after it recorded the rotation finished)
        present = encrypted_with(store, new)
        assert present > 0  # (all of them, if killed before it recorded the rotation finished)
        done = subprocess.run(command, env=env | {"HOTLINE_KEY": old}, capture_output=True,
                              text=True, timeout=TIMEOUT, check=False)  # fmt: skip
        assert (done.returncode, done.stderr) == (0, "")
        assert f"{events - present} events re-encrypted ({present} done by an earlier run)" in (
            done.stdout
        )
    assert encrypted_with(store, new) == events and encrypted_with(store, old) == 0
    assert {k: v for k, v in plaintexts(store, new).items() if k in plain} == plain
    refused(
        run(store, *REPORTS[0], key=old),
        f"hotline: HOTLINE_KEY is not this store's key (fingerprint {short(old)}, the "
        f"store's is {short(new)}); nothing was read or written",
    )
    assert reports(run, store, new) == before
