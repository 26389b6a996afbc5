"""The ``customer-connect`` command: serve the simulated Oracle B2C Service site with granian.

Example::

    ccbhub simulate customer-connect --port 8200 --database var/cc-sim.sqlite --generate 50 --seed 7 \\
        --user api --password secret

The database is created on first start and kept (incidents survive restarts); ``--generate`` adds the
seed's messages that are not in it yet. Without ``--password`` a random one is made up and printed.
``--tls`` serves HTTPS with a self-signed certificate made at start (written to ``--tls-dir``, default
``<database>.tls/``, as ``cert.pem`` for clients to trust). ``--session-token`` also accepts
``Authorization: Session <token>``; ``--require-app-context`` (the default) refuses v1.4 requests without the
``OSvC-CREST-Application-Context`` header, as a real site does. Bad options exit with code 2.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from simulators.cli import simulate_group

__all__ = ["customer_connect_command", "register"]


@click.command("customer-connect")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8200, show_default=True)
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("customer-connect-sim.sqlite"),
    show_default=True,
    help="The simulator's own SQLite file (created if missing).",
)
@click.option(
    "--generate",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="Synthetic Contact Us e-mails to turn into incidents on start.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated e-mails.")
@click.option("--user", default="admin", show_default=True, help="The API user (HTTP Basic).")
@click.option("--password", default=None, help="The API user's password (default: random, printed).")
@click.option("--session-token", default=None, help="Also accept 'Authorization: Session <token>'.")
@click.option(
    "--require-app-context/--no-require-app-context",
    default=True,
    show_default=True,
    help="Refuse v1.4/latest requests without the OSvC-CREST-Application-Context header.",
)
@click.option("--tls/--no-tls", default=False, show_default=True, help="Serve HTTPS (self-signed).")
@click.option(
    "--tls-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where --tls writes cert.pem and key.pem (default: <database>.tls).",
)
def customer_connect_command(
    host: str,
    port: int,
    database: Path,
    generate: int,
    seed: int,
    user: str,
    password: str | None,
    session_token: str | None,
    require_app_context: bool,
    tls: bool,
    tls_dir: Path | None,
) -> None:
    """Simulated Oracle B2C Service (Customer Connect) over Connect REST (v1.2, v1.3, v1.4, latest)."""
    if not user.strip() or ":" in user:
        raise click.BadParameter("must be non-empty and contain no ':'", param_hint="'--user'")
    if password is not None and not password:
        raise click.BadParameter("must not be empty", param_hint="'--password'")
    parent = database.resolve().parent
    if not parent.is_dir():
        raise click.BadParameter(f"directory {parent} does not exist", param_hint="'--database'")
    if session_token is not None and (not session_token.strip() or any(c.isspace() for c in session_token)):
        raise click.BadParameter("must be non-empty and contain no spaces", param_hint="'--session-token'")
    shown_password = password or secrets.token_urlsafe(12)
    os.environ.update(
        {
            "CC_SIM_DATABASE": str(database.resolve()),
            "CC_SIM_USER": user,
            "CC_SIM_PASSWORD": shown_password,
            "CC_SIM_GENERATE": str(generate),
            "CC_SIM_SEED": str(seed),
            "CC_SIM_SESSION_TOKEN": session_token or "",
            "CC_SIM_REQUIRE_APP_CONTEXT": "1" if require_app_context else "0",
        }
    )
    cert: Path | None = None
    key: Path | None = None
    if tls:
        # Imported here so a start without --tls does not load cryptography.
        from simulators.customer_connect.tls import write_self_signed

        where = tls_dir or database.resolve().with_name(database.name + ".tls")
        cert, key = write_self_signed(where, [host])
    scheme = "https" if tls else "http"
    click.echo(
        f"Customer Connect simulator on {scheme}://{host}:{port}/services/rest/connect/v1.4/incidents "
        f"(user {user}" + ("" if password else f", password {shown_password}") + f"; database {database})"
    )
    if tls:
        click.echo(f"Self-signed certificate for clients to trust: {cert}")
    from granian import Granian
    from granian.constants import Interfaces

    # One worker: the store serialises writes in-process, and the reference counter relies on that.
    Granian(
        "simulators.customer_connect.asgi:app_from_env",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        ssl_cert=cert,
        ssl_key=key,
    ).serve()


def register(cli: click.Group) -> None:
    """The ``ccbhub.cli`` entry point: adds ``ccbhub simulate customer-connect``."""
    simulate_group(cli).add_command(customer_connect_command)
