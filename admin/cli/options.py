"""The options most commands share, and the one place their errors become plain lines.

A command that works on the vault takes `@with_vault`, one that also talks to
the server `@with_server`: each adds the usual options (--keyfile, --vault,
and --server, --proxy) and hands the command a `Reviewer` holding them.
`@one_report` is `@with_vault` for a command that shows one report (and --json).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from admin.actions import NoServerError, OnionNeedsProxyError, client_for, leaks_names
from admin.cli.passphrases import open_keyfile
from admin.client import ApiClient, ClientError
from admin.reviewer_paths import KEYFILE_ENV, VAULT_ENV, default_keyfile, default_vault
from admin.sync import SyncError
from admin.vault import UnknownReportError, Vault, VaultError

P = ParamSpec("P")
R = TypeVar("R")


def _existing_keyfile(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if not value.is_file():
        raise click.BadParameter(
            f"no key file at {value}: make one with `amanat-admin keygen`, or give --keyfile"
            f" or {KEYFILE_ENV}."
        )
    return value


keyfile_option = click.option(
    "--keyfile",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=KEYFILE_ENV,
    default=lambda: str(default_keyfile()),
    show_default="~/.local/share/amanat/reviewer.key",
    callback=_existing_keyfile,
    help=f"Your key file (or {KEYFILE_ENV}).",
)
vault_option = click.option(
    "--vault",
    "vault_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=VAULT_ENV,
    default=lambda: str(default_vault()),
    show_default="~/.local/share/amanat/vault",
    help="Your local vault (or AMANAT_VAULT).",
)
server_option = click.option(
    "--server", help="The portal's URL (remembered in the vault after the first sync)."
)
proxy_option = click.option(
    "--proxy", help="A proxy for every request, e.g. socks5h://127.0.0.1:9050 for Tor."
)


def sentence(text: str) -> str:
    """The text as a sentence: a capital first, a full stop last."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def plain_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the vault's, the client's and sync's errors into one line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (VaultError, ClientError, SyncError) as exc:
            raise click.ClickException(sentence(str(exc))) from exc
        except UnknownReportError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def open_vault(vault_dir: Path, keyfile: Path) -> Vault:
    """Open the key file (asking for the passphrase), then the vault sealed to it."""
    key = open_keyfile(keyfile)
    return Vault.open(vault_dir, key)


def make_client(vault: Vault, server: str | None, proxy: str | None) -> ApiClient:
    """A client for --server (or the remembered server), through --proxy if given."""
    try:
        client = client_for(vault, server, proxy)
    except NoServerError:
        raise click.UsageError(
            "Give --server URL: this vault has not synced with a server yet."
        ) from None
    except OnionNeedsProxyError:
        raise click.UsageError(
            "An .onion server needs --proxy socks5h://127.0.0.1:9050 (Tor)."
        ) from None
    if leaks_names(vault.proxy):
        click.echo("Warning: socks5:// resolves names outside the proxy; use socks5h://.", err=True)
    return client


@dataclass(frozen=True)
class Reviewer:
    """What a command was told about the reviewer: key file, vault, and server if any."""

    keyfile: Path
    vault_dir: Path
    server: str | None = None
    proxy: str | None = None

    def open_vault(self) -> Vault:
        """Ask for the passphrase and open the vault (module-level, so tests can stub it)."""
        return open_vault(self.vault_dir, self.keyfile)

    def client(self, vault: Vault) -> ApiClient:
        """A client for the server given (or remembered), to use in a `with` block."""
        return make_client(vault, self.server, self.proxy)


def with_vault(command: Callable[..., R]) -> Callable[..., R]:
    """Add --keyfile and --vault; the command gets them as `reviewer`, and plain errors."""

    @functools.wraps(command)
    def wrapper(*, keyfile: Path, vault_dir: Path, **kwargs: Any) -> R:
        return command(reviewer=Reviewer(keyfile, vault_dir), **kwargs)

    return keyfile_option(vault_option(plain_errors(wrapper)))


def with_server(command: Callable[..., R]) -> Callable[..., R]:
    """Add --keyfile, --server, --proxy and --vault; the command gets them as `reviewer`."""

    @functools.wraps(command)
    def wrapper(
        *, keyfile: Path, server: str | None, proxy: str | None, vault_dir: Path, **kwargs: Any
    ) -> R:
        return command(reviewer=Reviewer(keyfile, vault_dir, server, proxy), **kwargs)

    return keyfile_option(server_option(proxy_option(vault_option(plain_errors(wrapper)))))


def one_report(json_help: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """For a command that reads one report: REPORT_ID, `with_vault`'s options, then --json."""

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        as_json = click.option("--json", "as_json", is_flag=True, help=json_help)
        return click.argument("report_id")(with_vault(as_json(command)))

    return decorate
