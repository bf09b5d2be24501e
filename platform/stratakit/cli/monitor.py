"""``strata monitor``: drift of served models against their training data, and their traffic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from stratakit.cli._output import Format, ProjectDir, check_format, console, err_console, print_json
from stratakit.errors import InvalidInputError, StrataError
from stratakit.project import find_project
from stratakit.registry.refs import ModelRef

if TYPE_CHECKING:
    from stratakit.monitor.drift import DriftReport

monitor_app = typer.Typer(
    help="Monitoring: drift of the logged predictions, traffic and errors per served model.",
    no_args_is_help=True,
)

_VERDICT_STYLE = {"drift": "red", "ok": "green", "not enough data": "yellow", None: "dim"}


def _window(since: str | None, last: int | None, default: str) -> Any:
    from stratakit.monitor.predictions import Window
    from stratakit.settings.monitoring import parse_duration

    if since is not None and last is not None:
        raise InvalidInputError("Give --since or --last, not both.")
    if last is not None:
        if last < 1:
            raise InvalidInputError(f"--last {last}: give a number of rows of at least 1.")
        return Window(last=last)
    return Window(since_seconds=parse_duration(since or default, f"--since {since or default}"))


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _drift_table(report: DriftReport) -> Table:
    table = Table(
        title=f"drift of {report.model} version {report.version}, {report.window} "
        f"({report.rows} rows)",
        title_justify="left",
    )
    for column in ("column", "kind", "statistic", "value", "threshold", "p-value",
                   "missing", "verdict", "why"):  # fmt: skip
        table.add_column(column, justify="right" if column in {"value", "p-value"} else "left")
    for c in report.columns:
        style = _VERDICT_STYLE[c.verdict]
        table.add_row(
            escape(c.column),
            c.kind,
            c.statistic,
            _number(c.value),
            f"{c.threshold:g}",
            _number(c.p_value, 4),
            f"{c.reference_missing:.1%} → {c.current_missing:.1%}",
            f"[{style}]{c.verdict}[/{style}]",
            escape("; ".join(c.reasons) or "-"),
        )
    return table


@monitor_app.command("drift")
def monitor_drift(
    ref: Annotated[
        str,
        typer.Argument(
            help="NAME (the version the gateway's alias points at), NAME@ALIAS or NAME/VERSION."
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Window: rows logged in the last 24h, 7d, 90m… "
            "(default: [tool.strata.monitoring] window).",
        ),
    ] = None,
    last: Annotated[
        int | None, typer.Option("--last", help="Window: the newest N logged rows.")
    ] = None,
    store: Annotated[
        bool,
        typer.Option(
            "--store/--no-store",
            help="Keep the result and HTML report in the bucket and on the version's run.",
        ),
    ] = True,
    emit: Annotated[
        bool,
        typer.Option(
            "--emit",
            help="On drift, send the event strata.drift.detected (model, version, columns) "
            "to the stack's scheduler, where flows can be triggered by it.",
        ),
    ] = False,
    fmt: Format = "table",
    project_dir: ProjectDir = None,
) -> None:
    """Compare logged predictions with the version's training data (exit 1 on drift).

    Exit status: 0 no drift (or not enough data), 1 drift, 2 the check could not run.
    """
    from stratakit.monitor.drift import check_drift
    from stratakit.registry.connection import tracking_client
    from stratakit.registry.refs import alias_version

    try:
        check_format(fmt)
        project = find_project(project_dir)
        settings = project.settings
        window = _window(since, last, settings.monitoring.window)
        model_ref = ModelRef.parse(ref)
        with tracking_client(project) as api:
            if model_ref.alias is None and model_ref.version is None:
                alias = settings.serving.alias
                if alias_version(api, model_ref.name, alias) is not None:
                    model_ref = ModelRef(model_ref.name, alias=alias)
            with err_console.status("checking drift…") as spinner:
                report = check_drift(
                    project, api, model_ref, window, store=store,
                    progress=lambda step: spinner.update(f"{step}…"),
                )  # fmt: skip
        if emit and report.verdict == "drift":
            from stratakit.flows.data_push import emit_project_event
            from stratakit.settings import DRIFT_DETECTED_EVENT

            payload = {
                "model": report.model,
                "version": report.version,
                "drifted": report.drifted,
                "report": report.stored.get("html", ""),
            }
            emit_project_event(project, DRIFT_DETECTED_EVENT, payload)
    except StrataError as exc:
        exc.exit_code = 2  # 1 means drift to whoever runs this from cron or CI
        raise
    if fmt == "json":
        print_json(report.to_json())
    else:
        console.print(_drift_table(report))
        style = _VERDICT_STYLE[report.verdict]
        drifted = f": {', '.join(report.drifted)}" if report.drifted else ""
        console.print(f"verdict: [{style}]{report.verdict}[/{style}]{escape(drifted)}")
        if "html" in report.stored:
            console.print(f"report: {report.stored['html']}", highlight=False)
    if report.verdict == "drift":
        raise typer.Exit(1)


@monitor_app.command("status")
def monitor_status(fmt: Format = "table", project_dir: ProjectDir = None) -> None:
    """Per served model: traffic, error rate, latency percentiles, last drift check."""
    from stratakit.monitor.results import served_status

    check_format(fmt)
    rows = served_status(find_project(project_dir))
    if fmt == "json":
        print_json(rows)
        return
    if not rows:
        console.print("The gateway serves no model yet; `strata model promote` one.")
        return
    table = Table(title="served models", title_justify="left")
    for column in ("model", "version", "requests", "errors", "p50/p99 ms", "last check",
                   "verdict", "trained"):  # fmt: skip
        table.add_column(column, no_wrap=column in {"model", "last check", "verdict"})
    for row in rows:
        style = _VERDICT_STYLE.get(row["verdict"], "dim")
        rate = row["error_rate"]
        table.add_row(
            escape(row["model"]),
            row["version"],
            str(row["requests"]),
            "-" if rate is None else f"{rate:.1%}",
            f"{_number(row['p50_ms'], 1)}/{_number(row['p99_ms'], 1)}",
            (row["last_check"] or "never").replace("T", " ").removesuffix("Z"),
            f"[{style}]{row['verdict'] or '-'}[/{style}]",
            row["trained_age"],
        )
    console.print(table)
    for row in rows:
        if row["drifted"]:
            drifted = escape(", ".join(row["drifted"]))
            console.print(f"{escape(row['model'])} v{row['version']} drifted: {drifted}")
            console.print(f"  report: {row['report']}", highlight=False, soft_wrap=True)
