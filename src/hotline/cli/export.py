"""What leaves hotline for spreadsheets and files: cells never read as formulas, and files
replaced whole, never written through a symbolic link."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from hotline.domain.errors import InvalidInput

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may take for the start of a formula (OWASP, CSV injection)."""
NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")


def reads_as_formula(value: object) -> bool:
    """Whether `value` is text a spreadsheet could take for a formula: it starts with
    = + - @, a tab or a CR. A negative number, even written as text (-1.50), is a number."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not NEGATIVE_NUMBER.fullmatch(value)
    )


def csv_cell(value: object) -> object:
    """`value` for a CSV file: text that could be read as a formula gets a leading
    apostrophe, which spreadsheets take to mean "this is text"."""
    return f"'{value}" if reads_as_formula(value) else value


def replace_file(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `path` (an `--output`) whole or not at all: `write` fills a new file in the
    same folder, which is then renamed over `path`. A symbolic link at `path` is refused
    (nothing is written through it, and a link made meanwhile is replaced, not followed).
    A new file is owner-only (0600); a file replaced keeps its mode."""
    try:
        existing = path.lstat()
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise InvalidInput(f"--output {path}: cannot write: {error.strerror}") from None
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise InvalidInput(
                f"--output {path} is a symbolic link: name the file itself "
                "(hotline does not write through a link)"
            )
        if not stat.S_ISREG(existing.st_mode):
            raise InvalidInput(f"--output {path}: cannot write: it is not a regular file")
        if not os.access(path, os.W_OK):
            raise InvalidInput(f"--output {path}: cannot write: Permission denied")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise InvalidInput(f"--output {path}: cannot write: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            if existing is not None:
                os.fchmod(file.fileno(), stat.S_IMODE(existing.st_mode))
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise InvalidInput(f"--output {path}: cannot write: {error.strerror}") from None
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every file system syncs a folder)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
