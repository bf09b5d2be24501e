"""The ``strata`` command line: each command parses its arguments, calls one function, prints.

Owns: the top-level app and its one error handler (:func:`main`), one module per command
group (``stack``, ``model``, ``features``, ``flows``, ``data``, ``monitor``, ``portal``, and
``project`` for new, update, doctor, demo and version) and ``_output`` (options, formats,
colours, tables).
Commands import what they need when they run, so ``strata --help`` stays fast.

May import: everything; nothing imports it.
"""

from __future__ import annotations

import sys

import click
import typer
from rich.markup import escape

from stratakit.cli import project
from stratakit.cli._output import err_console
from stratakit.cli.data import data_app
from stratakit.cli.features import features_app
from stratakit.cli.flows import flows_app
from stratakit.cli.model import model_app
from stratakit.cli.monitor import monitor_app
from stratakit.cli.portal import portal_command
from stratakit.cli.stack import stack_app
from stratakit.errors import StackStartError, StrataError

app = typer.Typer(
    name="strata",
    help="StrataKit: a standardized ML development environment and its local platform stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(stack_app, name="stack")
app.add_typer(model_app, name="model")
app.add_typer(features_app, name="features")
app.add_typer(flows_app, name="flows")
app.add_typer(data_app, name="data")
app.add_typer(monitor_app, name="monitor")
app.command("portal")(portal_command)
project.register(app)


def main() -> None:
    """Run the CLI; domain errors become one red line and exit status 1, Ctrl-C 130."""
    try:
        result = app(standalone_mode=False)
    except StackStartError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        if exc.log_tail:
            err_console.rule(f"last lines of {exc.service}.log")
            err_console.print(exc.log_tail, markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except StrataError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)


__all__ = ["app", "main"]
