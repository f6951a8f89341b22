"""`lrs-ws serve`, `lrs-ws worker` and `lrs-ws db`: running the service and its schema."""
from __future__ import annotations

import ipaddress
import secrets
import sys

import click

from lrs_ws.cli.app import database_option, main
from lrs_ws.config import SERVE_OPTIONS, Settings, options

# --- serve -----------------------------------------------------------------------------------


@main.command()
@options("database_url", *SERVE_OPTIONS)
def serve(**values) -> None:
    """Run the SOAP service. Before the workers start: create or upgrade the schema, load the
    demo data into a new database, then print the endpoints and the demo credentials."""
    from lrs_ws.adapters.engines import redacted
    from lrs_ws.bootstrap import DatabaseNotReady, prepare_for_serving
    from lrs_ws.server import ServerError, ServerOptions, configure_logging, listen, run
    from lrs_ws.services.seed import load_demo_file

    server = ServerOptions.from_options(values)
    try:
        server.check_tls()
        server.check_access_log()
        listener = listen(server.host, server.port)
    except ServerError as error:
        raise click.ClickException(str(error)) from None
    port = listener.getsockname()[1]
    host = f"[{server.host}]" if ":" in server.host else server.host
    public_url = values["public_url"] or f"{'https' if server.tls else 'http'}://{host}:{port}"
    if server.host in ("0.0.0.0", "::", "") and not values["public_url"]:
        click.echo(
            f"Warning: listening on every interface without --public-url: the WSDLs name {public_url}, "
            "which clients elsewhere cannot reach. Set --public-url to the address they use.",
            err=True,
        )
    token_made = values["sandbox"] and not values["sandbox_token"]
    if token_made and not _loopback(server.host):
        listener.close()
        raise click.ClickException(
            f"--sandbox on {server.host} needs --sandbox-token (a token you chose): "
            "anyone who reaches the sandbox API can reset the register"
        )
    token = secrets.token_urlsafe(24) if token_made else values["sandbox_token"]
    console_secret = values["console_secret"] or secrets.token_urlsafe(32)  # one for every worker of this start
    settings = Settings.from_options(
        {**values, "public_url": public_url, "sandbox_token": token, "console_secret": console_secret}
    )
    database_url = settings.database_url
    try:
        said, database_file = prepare_for_serving(database_url, demo=not values["no_demo"], sandbox=settings.sandbox)
    except DatabaseNotReady as error:
        listener.close()
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(said))
    demo = load_demo_file()
    click.echo(f"lrs-ws on {redacted(database_url)}")
    click.echo(f"  Learner Register:  {settings.endpoint('/LearnerService.svc')}")
    click.echo(f"  WSDL:              {settings.endpoint('/LearnerService.svc')}?singlewsdl")
    click.echo(f"  PLR (R9):          {settings.endpoint('/LearnerServiceR9.svc')}")
    click.echo(f"  WSDL:              {settings.endpoint('/LearnerServiceR9.svc')}?singlewsdl")
    click.echo(f"  Health:            {settings.endpoint('/health')}")
    org = demo["organisation"]
    users = ", ".join(f"{u['username']} ({'+'.join(u['roles'])})" for u in demo["users"])
    click.echo(f"  Demo credentials:  UKPRN {org['ukprn']}, OrgPassword {org['password']}, UserName one of: {users}")
    if settings.sandbox:
        click.echo(f"  Sandbox API:       {settings.endpoint('/sandbox/')}  (Authorization: Bearer <the sandbox token>)")
        shown = f"{token} (made now; --sandbox-token to choose one)" if token_made else "the one given (--sandbox-token)"
        click.echo(f"  Sandbox token:     {shown}")
    if settings.sandbox or settings.console:
        signs_in = "the sandbox token" if settings.sandbox else "a super user's credentials"
        click.echo(f"  Console:           {settings.endpoint('/console/')}  (sign in with {signs_in})")
    sys.stdout.flush()  # before gunicorn takes over the process

    batch_worker = None
    if not values["no_worker"]:
        from lrs_ws.worker import ServedBatchWorker, worker_arguments

        batch_worker = ServedBatchWorker(worker_arguments(settings, server.log_level), settings.database_url)

    def app_factory():
        from lrs_ws.bootstrap import build_server_app

        return build_server_app(
            settings, server, database_file=database_file, batch_worker=None if batch_worker is None else batch_worker.served
        )

    if batch_worker is not None:
        configure_logging(server.log_level)  # what serve itself says of its batch worker
        batch_worker.start()
    try:
        run(app_factory, listener, server, batch_worker.check if batch_worker is not None else None)
    finally:
        if batch_worker is not None:
            batch_worker.stop()


def _loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (a sandbox there may make its own token)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- worker -----------------------------------------------------------------------------------


@main.command()
@options("database_url", "possible_match_limit", "prohibited_words", "batch_retention_days", "batch_chunk", "log_level", "sandbox")
@click.option("--until-idle", is_flag=True, help="Exit once no job is waiting (scripts, tests).")
@click.option("--supervise", is_flag=True, help="Keep a worker running: start it again whenever it ends (what serve does).")
def worker(until_idle: bool, supervise: bool, **values) -> None:
    """Run batch jobs (submitBatchRegistration, LRB files) until stopped (SIGTERM or Ctrl-C: after
    the current chunk of learners). Several may run at once on PostgreSQL."""
    import os
    import threading

    from lrs_ws.bootstrap import DatabaseNotReady, build_runtime, open_database
    from lrs_ws.server import configure_logging
    from lrs_ws.startup import READY_FD_ENV, cannot_start, tell_supervisor
    from lrs_ws.worker import (
        WORKER_NAME_ENV,
        StatusBoard,
        stop_on_signals,
        worker_arguments,
        worker_name,
    )
    from lrs_ws.worker import run as run_worker

    settings = Settings.from_options(values)
    if supervise:  # its workers check the database; it only starts them and says how they are
        from lrs_ws.worker import supervise as keep_running

        configure_logging(values["log_level"])
        name = os.environ.pop(WORKER_NAME_ENV, None) or worker_name()
        board = StatusBoard(build_runtime(settings).unit_of_work, name, supervised=True)
        arguments = worker_arguments(settings, values["log_level"]) + (["--until-idle"] if until_idle else [])
        keep_running(arguments, board, settings.database_url)
        return
    supervised = READY_FD_ENV in os.environ  # started by a supervisor, which reports for it
    try:
        open_database(settings.database_url).dispose()  # the schema must be there and current
    except DatabaseNotReady as error:
        if supervised:
            cannot_start(str(error))
        raise click.ClickException(str(error)) from None
    configure_logging(values["log_level"])
    runtime = build_runtime(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    tell_supervisor("ready")
    own_report = None if supervised else StatusBoard(runtime.unit_of_work, worker_name(), supervised=False)
    run_worker(runtime, stop=stop, until_idle=until_idle, board=own_report)


# --- db ---------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@database_option
def db_upgrade(database_url) -> None:
    """Create the schema in a new database, or migrate it to the latest version; says which."""
    from lrs_ws.bootstrap import DatabaseNotReady, prepare_database

    try:
        prepared = prepare_database(database_url)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None
    prepared.engine.dispose()
    click.echo(prepared.said)
