"""The alert routing file (`--routing FILE` or HOTLINE_ALERTS): which flags go to which
channel (docs/alerts.md).

A TOML file of `[[route]]` tables. Each route has a `name` (its deliveries are kept under
it, so renaming a route starts it afresh), a `channel` (wecom, dingtalk, mail, webhook),
what it takes (`units`, `groups`, `districts`; none of them: every flag) and where its
secrets come from: the environment (`url_env`, `secret_env`, `password_env`) or a file
readable by its owner only (`url_file`, `secret_file`, `password_file`, mode 0600).
A secret is never read from the TOML itself, and never stored.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from hotline.domain.errors import InvalidInput


class ChannelKind(StrEnum):
    WECOM = "wecom"
    """企业微信 / 政务微信 group robot."""
    DINGTALK = "dingtalk"
    """钉钉 group robot."""
    MAIL = "mail"
    WEBHOOK = "webhook"
    """A generic JSON webhook: one POST per alert."""


class Security(StrEnum):
    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"
    """Plain SMTP: only for a relay on the same machine."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: Security
    sender: str
    to: tuple[str, ...]
    username: str | None
    password: str | None


@dataclass(frozen=True)
class Route:
    name: str
    channel: ChannelKind
    units: frozenset[str]
    groups: frozenset[str]
    districts: frozenset[str]
    url: str | None
    """The robot's or webhook's URL (a robot's carries its key: a secret)."""
    secret: str | None
    """钉钉's signing secret (加签), if set."""
    mail: MailSettings | None

    def takes(self, unit: str, group: str, district: str | None) -> bool:
        """Whether a flag on an order of `unit` (in `group`, in `district`) goes this way."""
        if not (self.units or self.groups or self.districts):
            return True
        return unit in self.units or group in self.groups or district in self.districts


_KNOWN = {
    "name", "channel", "units", "groups", "districts", "url_env", "url_file", "secret_env",
    "secret_file", "smtp_host", "smtp_port", "security", "from", "to", "username",
    "password_env", "password_file",
}  # fmt: skip


def read_routing(path: Path, environ: Mapping[str, str] | None = None) -> tuple[Route, ...]:
    """The routes of the file at `path`; a file that cannot be used is refused in one line
    naming the file, the route and what to change."""
    env = os.environ if environ is None else environ
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"cannot read the routing file {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput(f"routing file {path} is not valid TOML: {error}") from None
    tables = data.get("route")
    if not isinstance(tables, list) or not tables or set(data) - {"route"}:
        raise InvalidInput(f"routing file {path}: write one or more [[route]] tables, nothing else")
    routes = tuple(_route(path, i, table, env) for i, table in enumerate(tables, 1))
    names = [r.name for r in routes]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise InvalidInput(f"routing file {path}: route name {twice!r} is used twice")
    return routes


def _route(path: Path, index: int, table: Any, env: Mapping[str, str]) -> Route:
    where = f"routing file {path}, route {index}"
    if not isinstance(table, dict):
        raise InvalidInput(f"{where}: a route is a [[route]] table")
    if written := sorted({"url", "secret", "password"} & set(table)):
        what = written[0]
        raise InvalidInput(
            f"{where}: do not write the {what} in the file; use {what}_env or {what}_file"
        )
    if unknown := sorted(set(table) - _KNOWN):
        raise InvalidInput(
            f"{where}: unknown key {unknown[0]!r}; keys: {', '.join(sorted(_KNOWN))}"
        )
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f'{where}: give it a name = "…" (its deliveries are kept under it)')
    where = f"routing file {path}, route {name!r}"
    try:
        channel = ChannelKind(str(table.get("channel")))
    except ValueError:
        kinds = ", ".join(k.value for k in ChannelKind)
        raise InvalidInput(f"{where}: channel must be one of {kinds}") from None
    chosen = {key: _names(where, table, key) for key in ("units", "groups", "districts")}
    url = secret = None
    mail = None
    if channel is ChannelKind.MAIL:
        mail = _mail(where, table, env)
    else:
        url = _secret(where, table, "url", env, required=True)
        if not (url or "").startswith(("http://", "https://")):
            raise InvalidInput(f"{where}: its URL is not an http:// or https:// URL")
        if channel is ChannelKind.DINGTALK:
            secret = _secret(where, table, "secret", env, required=False)
    return Route(name, channel, chosen["units"], chosen["groups"], chosen["districts"],
                 url, secret, mail)  # fmt: skip


def _names(where: str, table: dict[str, Any], key: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInput(f'{where}: {key} is a list of names, e.g. {key} = ["…"]')
    return frozenset(value)


def _mail(where: str, table: dict[str, Any], env: Mapping[str, str]) -> MailSettings:
    host, sender, to = table.get("smtp_host"), table.get("from"), table.get("to")
    if not isinstance(host, str) or not host:
        raise InvalidInput(f'{where}: a mail route needs smtp_host = "…"')
    if not isinstance(sender, str) or "@" not in sender:
        raise InvalidInput(f'{where}: a mail route needs from = "address@…"')
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
        raise InvalidInput(f'{where}: a mail route needs to = ["address@…", …]')
    try:
        security = Security(table.get("security", "starttls"))
    except ValueError:
        raise InvalidInput(f"{where}: security must be starttls, ssl or none") from None
    default_port = {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25}[security]
    port = table.get("smtp_port", default_port)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidInput(f"{where}: smtp_port must be a port number")
    username = table.get("username")
    if username is not None and not isinstance(username, str):
        raise InvalidInput(f"{where}: username must be text")
    password = _secret(where, table, "password", env, required=False)
    if username and password is None:
        raise InvalidInput(f"{where}: a username needs password_env or password_file")
    return MailSettings(host, port, security, sender, tuple(to), username, password)


def _secret(
    where: str, table: dict[str, Any], what: str, env: Mapping[str, str], *, required: bool
) -> str | None:
    """A secret from the variable `{what}_env` names, or the file `{what}_file` names."""
    variable, file = table.get(f"{what}_env"), table.get(f"{what}_file")
    if what in table:
        raise InvalidInput(
            f"{where}: do not write the {what} in the file; use {what}_env or {what}_file"
        )
    if variable is not None and file is not None:
        raise InvalidInput(f"{where}: give {what}_env or {what}_file, not both")
    if variable is not None:
        value = env.get(str(variable))
        if not value:
            raise InvalidInput(f"{where}: the variable {variable} ({what}_env) is not set")
        return value.strip()
    if file is not None:
        return _secret_file(where, Path(str(file)).expanduser(), what)
    if required:
        raise InvalidInput(f"{where}: say where its {what} comes from: {what}_env or {what}_file")
    return None


def _secret_file(where: str, path: Path, what: str) -> str:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise InvalidInput(
                f"{where}: {what}_file {path} is readable by others (mode {mode:o}); "
                f"run chmod 600 {path}"
            )
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise InvalidInput(f"{where}: cannot read {what}_file {path}: {error.strerror}") from None
    if not value:
        raise InvalidInput(f"{where}: {what}_file {path} is empty")
    return value
