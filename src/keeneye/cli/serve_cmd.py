"""``keeneye serve-model MODEL_URI``: serve a model over the Open Inference Protocol (V2) and
``/predict`` with keeneye monitoring built in."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

from keeneye.cli._exit import fail
from keeneye.cli._listen import bind_listening_socket, serve_until_stopped
from keeneye.errors import KeeneyeError


def serve_model(
    model_uri: str = typer.Argument(
        ...,
        help="models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID/PATH, an MLflow model "
        "folder, a .skops file (or .pkl/.joblib with --trust-pickle).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", metavar="HOST", help="Interface to bind."),
    port: int = typer.Option(8080, "--port", metavar="PORT", help="TCP port; 0 picks a free one."),
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
        None,
        "--name",
        metavar="NAME",
        help="Model name in keeneye and in the V2 routes (default: the model's).",
    ),
    version: str | None = typer.Option(
        None,
        "--version",
        metavar="VERSION",
        help="Version the events are logged under (default: from MLflow; for a model file, the "
        "version keeneye registered for the same file, else its content hash, with a warning).",
    ),
    signature: Path | None = typer.Option(
        None,
        "--signature",
        metavar="FILE",
        help="JSON or YAML mapping feature → MLflow type (long, double, string, boolean…) that "
        "requests are checked against (default: the types the model learnt in training).",
    ),
    trust_pickle: bool = typer.Option(
        False,
        "--trust-pickle",
        help="Allow pickle/joblib files (loading one runs its code) and untrusted skops types.",
    ),
    log_preprocessed: str = typer.Option(
        "raw",
        "--log-preprocessed",
        metavar="raw|preprocessed|both",
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
    types = _read_signature(signature) if signature is not None else None
    try:
        loaded = load_model(
            model_uri, trust_pickle=trust_pickle, name=name, version=version, signature=types
        )
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
        raise fail(exc) from exc
    sock = bind_listening_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    app = create_app(server, background=background)
    # Printed before serving so that scripts and tests can read the real port (port 0).
    print(f"keeneye serve-model listening on http://{shown}:{sock.getsockname()[1]}", flush=True)
    print(
        f"serving {loaded.name} version {loaded.version} (from {loaded.version_source}; "
        f"{model_uri})",
        flush=True,
    )
    serve_until_stopped(app, sock)
    print("keeneye serve-model stopped", flush=True)


def _read_signature(path: Path) -> dict[str, str]:
    """Feature → MLflow column type from a JSON or YAML file; exits 2 naming the problem."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        typer.echo(
            f"error: --signature {str(path)!r} cannot be read: {type(exc).__name__}", err=True
        )
        raise typer.Exit(2) from None
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        typer.echo(
            f"error: --signature {str(path)!r} must map each feature to a type name, e.g. "
            '{"age": "long", "plan": "string"}',
            err=True,
        )
        raise typer.Exit(2)
    return {str(k): v for k, v in loaded.items()}


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
