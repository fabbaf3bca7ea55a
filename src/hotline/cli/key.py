"""`hotline key generate | rotate`: the key that encrypts the store's events at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hotline.adapters.eventstore import key_from_file
from hotline.cli.context import settings
from hotline.cli.output import counted
from hotline.domain.store_key import short
from hotline.service.application import HotlineApplication

app = typer.Typer(
    help="The store's encryption key (HOTLINE_KEY, HOTLINE_KEY_FILE).", no_args_is_help=True
)


@app.command()
def generate() -> None:
    """Print a new AES-256 key (base64) for HOTLINE_KEY or HOTLINE_KEY_FILE."""
    from eventsourcing.cryptography import AESCipher  # only here: it costs every command 30 ms

    typer.echo(AESCipher.create_key(32))
    typer.echo(
        "hotline: a new key; set HOTLINE_KEY to it, or keep it in an owner-only file (chmod 600) "
        "named by HOTLINE_KEY_FILE, and keep a copy safe: without it the encrypted events "
        "cannot be read",
        err=True,
    )


@app.command()
def rotate(
    ctx: typer.Context,
    new_key_file: Annotated[
        Path,
        typer.Option(
            "--new-key-file",
            help="An owner-only file holding the new key (`hotline key generate`).",
            show_default=False,
        ),
    ],
) -> None:
    """Re-encrypt every event with a new key, from the current one (HOTLINE_KEY or
    HOTLINE_KEY_FILE; none for a store without encryption). Killed, run it again: it
    finishes the job. Afterwards only the new key opens the store."""
    from hotline.service.key_rotation import rotate_key  # only here: AESCipher costs 30 ms

    new_key = key_from_file(new_key_file.expanduser(), f"--new-key-file {new_key_file}")
    hotline = HotlineApplication(settings=settings(ctx), rotating=True)
    try:
        done = rotate_key(hotline, new_key)
    finally:
        hotline.close()
    typer.echo(
        f"key rotated from {short(done.old)} to {short(done.new)}: "
        f"{counted(done.rewritten, 'event')} re-encrypted ({done.already} done by an earlier "
        "run); use the new key from now on (the read model is rebuilt by the next report)"
    )
    if done.unreadable:
        events = ", ".join(f"{id} #{version}" for id, version in done.unreadable[:10])
        more = f" and {len(done.unreadable) - 10} more" if len(done.unreadable) > 10 else ""
        left = "was encrypted with neither key and is left as it was"
        if len(done.unreadable) > 1:
            left = "were encrypted with neither key and are left as they were"
        typer.echo(
            f"hotline: {counted(len(done.unreadable), 'event')} {left} "
            f"(aggregate id #version: {events}{more})",
            err=True,
        )
