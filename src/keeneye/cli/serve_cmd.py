"""``keeneye serve-model MODEL_URI``: serve a model over the Open Inference Protocol (V2) and
``/predict`` with keeneye monitoring built in."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

from keeneye.cli._listen import bind_listening_socket, serve_until_stopped
from keeneye.errors import KeeneyeError


def serve_model(
    model_uri: str = typer.Argument(
        ...,
        help="models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID/PATH, an MLflow model "
        "folder, a .skops file (or .pkl/.joblib with --trust-pickle).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(8080, "--port", help="TCP port; 0 picks a free one."),
    keeneye_url: str = typer.Option(
        "http://127.0.0.1:8765",
        "--keeneye-url",
        envvar="KEENEYE_URL",
        help="The keeneye collector that receives the events (or KEENEYE_URL).",
    ),
    keeneye_token: str | None = typer.Option(
        None,
        "--keeneye-token",
        envvar="KEENEYE_TOKEN",
        show_envvar=False,
        help="Bearer token of the collector (or KEENEYE_TOKEN).",
    ),
    keeneye_token_file: Path | None = typer.Option(
        None,
        "--keeneye-token-file",
        help="Read the collector's bearer token from this file (keeps it off the command line).",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Model name in keeneye and in the V2 routes (default: the model's)."
    ),
    trust_pickle: bool = typer.Option(
        False,
        "--trust-pickle",
        help="Allow pickle/joblib files (loading one runs its code) and untrusted skops types.",
    ),
    log_preprocessed: str = typer.Option(
        "raw",
        "--log-preprocessed",
        help="Log the request's features (raw), the pipeline's transformed features "
        "(preprocessed), or both.",
    ),
    alias_poll_seconds: float = typer.Option(
        30.0,
        "--alias-poll-seconds",
        help="For models:/NAME@ALIAS: how often to check whether the alias moved.",
    ),
) -> None:
    """Serve a model (V2 REST + /predict + /metrics) and log its predictions to keeneye."""

    from keeneye.modelserver import ModelServer, create_app, load_model
    from keeneye.modelserver.app import Background
    from keeneye.modelserver.serving import LOG_MODES

    if keeneye_token_file is not None:
        from keeneye.cli.server_cmd import read_token_file

        keeneye_token = read_token_file(keeneye_token_file, "--keeneye-token-file")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per event batch otherwise
    if log_preprocessed not in LOG_MODES:
        typer.echo(
            f"error: --log-preprocessed {log_preprocessed!r} must be one of {', '.join(LOG_MODES)}",
            err=True,
        )
        raise typer.Exit(2)
    try:
        loaded = load_model(model_uri, trust_pickle=trust_pickle, name=name)
        server = ModelServer(
            loaded.name,
            keeneye_url=keeneye_url,
            keeneye_token=keeneye_token,
            log_mode=log_preprocessed,
        )
        server.deploy(loaded)
        background: list[Background] = []
        watcher = _alias_watcher(model_uri, server, loaded.version, alias_poll_seconds)
        if watcher is not None:
            background.append(watcher)
    except KeeneyeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    sock = bind_listening_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    app = create_app(server, background=background)
    # Printed before serving so that scripts and tests can read the real port (port 0).
    print(f"keeneye serve-model listening on http://{shown}:{sock.getsockname()[1]}", flush=True)
    print(f"serving {loaded.name} version {loaded.version} ({model_uri})", flush=True)
    serve_until_stopped(app, sock)
    print("keeneye serve-model stopped", flush=True)


def _alias_watcher(model_uri: str, server: Any, version: str, interval: float) -> Any:
    """For ``models:/NAME@ALIAS``: a watcher that deploys the version the alias moves to."""
    if not model_uri.startswith("models:/") or "@" not in model_uri:
        return None
    from keeneye.integrations.mlflow import AliasWatcher, parse_model_uri
    from keeneye.modelserver import load_model

    ref = parse_model_uri(model_uri)
    assert ref.alias is not None  # "@" in the URI

    def switch(new_version: str) -> None:
        loaded = load_model(f"models:/{ref.name}/{new_version}", name=server.name)
        loaded.tags["mlflow_alias"] = ref.alias or ""
        server.deploy(loaded)

    return AliasWatcher(ref.name, ref.alias, version, switch, interval=interval)


def register(app: typer.Typer) -> None:
    """Add ``serve-model`` to the ``keeneye`` command."""
    app.command("serve-model")(serve_model)
