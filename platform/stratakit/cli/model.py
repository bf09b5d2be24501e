"""``strata model``: the registry's answers (who, which binary, which data) and alias moves."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from stratakit.cli._output import (
    Format,
    ProjectDir,
    check_format,
    checks_table,
    console,
    print_json,
)
from stratakit.project import find_project
from stratakit.registry.lineage import REQUIRED
from stratakit.registry.refs import ModelRef

if TYPE_CHECKING:
    from stratakit.registry.catalog import VersionInfo

model_app = typer.Typer(
    help="The model registry: list, describe, verify, promote, roll back.", no_args_is_help=True
)

Reason = Annotated[str, typer.Option("--reason", "-m", help="Why (recorded on the version).")]


@model_app.command("list")
def model_list(fmt: Format = "table", project_dir: ProjectDir = None) -> None:
    """Registered models: latest version, aliases, owner."""
    from stratakit.registry.catalog import list_models
    from stratakit.registry.connection import tracking_client

    check_format(fmt)
    with tracking_client(find_project(project_dir)) as api:
        rows = list_models(api)
    if fmt == "json":
        print_json([dataclasses.asdict(row) for row in rows])
        return
    table = Table(title="registered models", title_justify="left")
    for column in ("model", "latest", "versions", "aliases", "owner"):
        table.add_column(column)
    for row in rows:
        aliases = ", ".join(f"{a} → v{v}" for a, v in row.aliases.items()) or "-"
        table.add_row(row.name, row.latest_version, str(row.versions), aliases, row.owner or "-")
    console.print(table if rows else "No registered models yet.")


def _lineage_table(info: VersionInfo) -> Table:
    lineage = info.lineage
    table = Table(
        title=f"{info.name} version {info.version}"
        + (f" ({', '.join(info.aliases)})" if info.aliases else ""),
        title_justify="left",
        show_header=False,
    )
    table.add_column("question", style="bold")
    table.add_column("answer")
    table.add_row("who owns it", lineage.owner or "[red]missing[/red]")
    table.add_row("which binary", f"sha256 {lineage.artifact_sha256 or '[red]missing[/red]'}")
    table.add_row("", info.source)
    table.add_row("which features", ", ".join(lineage.features) or "[red]missing[/red]")
    if lineage.feature_refs:
        views = sorted({ref.split(":", 1)[0] for ref in lineage.feature_refs})
        table.add_row("", f"from the feature store: {', '.join(views)}")
    dirty = {"true": " [yellow](uncommitted changes)[/yellow]", "false": " (clean)"}
    table.add_row(
        "which code",
        f"git {lineage.git_commit or '[red]missing[/red]'}{dirty.get(lineage.git_dirty, '')}",
    )
    for path, digest in lineage.data.items() or {"-": "[red]missing[/red]"}.items():
        table.add_row("which data", f"{path}: {digest}")
    table.add_row(
        "which run",
        f"pipeline {lineage.pipeline_run or '-'}, tracking {lineage.tracking_run or '-'}",
    )
    metrics = ", ".join(f"{k} = {v:.4g}" for k, v in sorted(info.metrics.items()))
    table.add_row("metrics", metrics or "-")
    table.add_row("registered", info.created.isoformat(timespec="seconds"))
    if lineage.missing:
        table.caption = f"missing tags: {', '.join(lineage.missing)}"
    return table


@model_app.command("describe")
def model_describe(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME/VERSION.")],
    fmt: Format = "table",
    project_dir: ProjectDir = None,
) -> None:
    """Who owns a version, which binary, features, code, data and run produced it."""
    from stratakit.registry.catalog import describe
    from stratakit.registry.connection import tracking_client

    check_format(fmt)
    model_ref = ModelRef.parse(ref)
    with tracking_client(find_project(project_dir)) as api:
        info = describe(api, model_ref)
    if fmt == "json":
        print_json(dataclasses.asdict(info) | {"questions": dict(REQUIRED)})
    else:
        console.print(_lineage_table(info))


@model_app.command("verify")
def model_verify(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME/VERSION.")],
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings (changed data, dirty tree) fail too.")
    ] = False,
    fmt: Format = "table",
    project_dir: ProjectDir = None,
) -> None:
    """Re-check the lineage: artifact digest, commit, DVC inputs, tags (exit 1 on mismatch)."""
    from stratakit.registry.connection import verify_ref

    check_format(fmt)
    info, findings = verify_ref(find_project(project_dir), ModelRef.parse(ref))
    failing = {"fail", "warn"} if strict else {"fail"}
    failed = [f for f in findings if f.severity in failing]
    if fmt == "json":
        rows = [{"check": f.name, "level": f.severity, "detail": f.detail} for f in findings]
        print_json({"model": info.name, "version": info.version, "ok": not failed,
                    "findings": rows})  # fmt: skip
    else:
        console.print(checks_table(f"verify {info.name} version {info.version}", findings))
        verdict = f"[red]{len(failed)} mismatch(es)[/red]" if failed else "[green]verified[/green]"
        console.print(verdict)
    if failed:
        raise typer.Exit(1)


@model_app.command("promote")
def model_promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Version number to promote.", min=1)],
    reason: Reason,
    to: Annotated[str, typer.Option("--to", help="Alias to move.")] = "production",
    project_dir: ProjectDir = None,
) -> None:
    """Move an alias to a version if it passes the project's quality gate."""
    from stratakit.registry.aliases import actor, promote
    from stratakit.registry.connection import tracking_client

    project = find_project(project_dir)
    thresholds = project.settings.quality_gate
    with tracking_client(project) as api:
        move = promote(
            api,
            ModelRef(name, version=str(version)),
            to,
            thresholds,
            reason=reason,
            actor=actor(project.root),
        )
    for result in move.gate:
        console.print(f"[green]✓[/green] {result.explain()}")
    before = f"v{move.previous}" if move.previous else "nothing"
    console.print(f"{move.name}@{move.alias}: {before} → v{move.version}")


@model_app.command("rollback")
def model_rollback(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    reason: Reason,
    alias: Annotated[str, typer.Option("--alias", help="Alias to move back.")] = "production",
    project_dir: ProjectDir = None,
) -> None:
    """Return an alias to the version it held before the last promotion."""
    from stratakit.registry.aliases import actor, rollback
    from stratakit.registry.connection import tracking_client

    project = find_project(project_dir)
    with tracking_client(project) as api:
        move = rollback(api, name, alias, reason=reason, actor=actor(project.root))
    console.print(f"{move.name}@{move.alias}: v{move.previous} → v{move.version}")
