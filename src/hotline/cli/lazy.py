"""Commands loaded only when used: `hotline order show` imports the order commands' modules,
not those of the reports (numpy, SQLAlchemy) or the workbook (openpyxl), and `hotline
--help` imports none (start-up, docs/performance.md).

Each command is named with the first sentence of its help, which the list of commands
shows without loading it (tests/test_cli_start.py checks that it is the command's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import typer
import typer.main
from typer._click.core import Context  # typer's own click
from typer._click.exceptions import BadParameter, MissingParameter
from typer.core import TyperCommand, TyperGroup

from hotline.domain.errors import InvalidInput


@dataclass(frozen=True)
class Lazy:
    """A command or group of commands: how to load it, and its summary for the list."""

    load: Callable[[], typer.Typer | Callable[..., Any]]
    """The group's Typer app, or the command's function."""
    summary: str
    """The first sentence of its help, as the list of commands shows it."""


def lazy(where: str, summary: str) -> Lazy:
    """The command or group at `where` (`module:attribute`)."""
    module, _, attribute = where.partition(":")
    return Lazy(lambda: getattr(import_module(module), attribute), summary)


class _Commands(MutableMapping[str, Any]):
    """A group's commands by name, each made when first looked up."""

    def __init__(self, group: TyperGroup, entries: Mapping[str, Lazy]) -> None:
        self.group = group
        self.entries = entries
        self.loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded:
            self.loaded[name] = _made(self.group, name, self.entries[name])
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        raise TypeError(f"command {name}: register it in hotline.cli.main's table")

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"command {name}: commands are not removed")

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _made(group: TyperGroup, name: str, entry: Lazy) -> Any:
    """The click command `entry` makes, as Typer makes it for a command registered on a root
    app with `group`'s settings."""
    holder = typer.Typer(
        rich_markup_mode=group.rich_markup_mode, suggest_commands=group.suggest_commands
    )
    loaded = entry.load()
    if isinstance(loaded, typer.Typer):
        holder.add_typer(loaded, name=name)
    else:
        holder.command(name)(loaded)
    return typer.main.get_group(holder).commands[name]


def lazy_group(entries: Mapping[str, Lazy]) -> type[TyperGroup]:
    """A Typer group class (`typer.Typer(cls=...)`) whose commands are `entries`."""

    class LazyGroup(TyperGroup):
        def __init__(self, **attributes: Any) -> None:
            super().__init__(**attributes)
            self.commands = _Commands(self, entries)

        def format_commands(self, ctx: Any, formatter: Any) -> None:
            """The list of commands from their summaries: none is loaded."""
            listed = TyperGroup(
                commands={name: TyperCommand(name, help=e.summary) for name, e in entries.items()}
            )
            TyperGroup.format_commands(listed, ctx, formatter)

        def invoke(self, ctx: Context) -> Any:
            """A command run; a value of the wrong type or out of an option's range (click's
            usage screen) refused on one line, as `in_range` refuses."""
            try:
                return super().invoke(ctx)
            except BadParameter as error:
                if isinstance(error, MissingParameter) or error.ctx is None:
                    raise  # a usage error: the usage screen, exit 2
                raise InvalidInput(
                    f"{error.format_message()}; see `{error.ctx.command_path} --help`"
                ) from None

    return LazyGroup
