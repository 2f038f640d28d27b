"""Help that shows real metavars: typer prints a parameter's Python type (``<str>``,
``<bool>``, ``<path>``) where none is given and wraps required arguments in braces
(``{model_uri}``). :func:`polish` gives every option and argument of a command (and of its
sub-commands) a metavar a user reads as a value — ``URL``, ``FILE``, ``N``, ``SECONDS`` — and
no metavar at all to flags. An explicit ``metavar=`` is kept."""

from __future__ import annotations

import types
from typing import Any

#: Metavars of options by their name (the longest option string, without dashes).
_BY_NAME = {
    "config": "FILE",
    "store": "PATH|URL",
    "url": "URL",
    "host": "HOST",
    "port": "PORT",
    "token": "TOKEN",
    "model": "MODEL",
    "version": "VERSION",
    "name": "NAME",
    "output": "FILE",
    "since": "TIME",
    "until": "TIME",
    "days": "DAYS",
    "seed": "N",
    "limit": "N",
}


def polish(command: Any) -> Any:
    """Give ``command``'s parameters real metavars (in place, idempotent); returns it."""
    if getattr(command, "_keeneye_polished", False):
        return command
    # (typer ships its own copy of click: parameters are told apart by their type name)
    for param in getattr(command, "params", []):
        if param.param_type_name == "option":
            if param.is_flag or param.count:
                param.metavar = ""
            elif param.metavar is None:
                param.metavar = _option_metavar(param)
        elif param.param_type_name == "argument":
            if param.metavar is None:
                param.metavar = (param.name or "value").upper()
            param._usage_display_name = types.MethodType(_usage_name, param)
            # the name column shows the metavar already; no Python type beside it
            param.display_type_rich = _no_type
    plain_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = plain_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        polish(sub)
    command._keeneye_polished = True
    return command


def _no_type(ctx: Any) -> None:
    return None


def _usage_name(self: Any) -> str:
    """``MODEL_URI`` (required) or ``[PATH]`` (optional), as most CLIs write them."""
    name = str(self.metavar)
    if not self.required and not name.startswith("["):
        name = f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def _option_metavar(param: Any) -> str:
    longest = max(param.opts, key=len).lstrip("-")
    last = longest.rsplit("-", 1)[-1]
    for key in (longest, last):
        if key in _BY_NAME:
            return _BY_NAME[key]
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    if getattr(desc, "is_choice", False):
        return "|".join(str(c) for c in getattr(desc, "choices", None) or ())
    if getattr(desc, "is_path", False):
        return "FILE"
    if annotation is float:
        return "SECONDS" if last == "seconds" else "NUMBER"
    if annotation is int:
        return "N"
    return longest.replace("-", "_").upper()
