"""`hotline key generate`: a new key for encrypting the store's personal data at rest."""

from __future__ import annotations

import typer

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
