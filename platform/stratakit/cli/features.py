"""``strata features``: the feature catalog (views, owners, freshness, the models using them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from stratakit.cli._output import Format, ProjectDir, check_format, console, print_json
from stratakit.errors import InvalidInputError
from stratakit.project import Project, find_project

if TYPE_CHECKING:
    from stratakit.features.catalog import FeatureViewEntry
features_app = typer.Typer(
    help="The feature catalog: feature views, owners, freshness and the models using them.",
    no_args_is_help=True,
)


def _entries(project: Project) -> list[FeatureViewEntry]:
    from stratakit.features.catalog import catalog
    from stratakit.registry.connection import tracking_client
    from stratakit.stack.context import project_contract

    contract = project_contract(project)
    with tracking_client(project) as api:
        versions = [(v.name, v.version, v.tags) for v in api.versions()]
    return catalog(contract, versions)


def _age(when: datetime | None) -> str:
    if when is None:
        return "[yellow]never materialized[/yellow]"
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{when:%Y-%m-%d %H:%M} UTC ({seconds / size:.0f} {unit} ago)"
    return f"{when:%Y-%m-%d %H:%M} UTC (just now)"


@features_app.command("list")
def features_list(fmt: Format = "table", project_dir: ProjectDir = None) -> None:
    """Every feature view: entities, features, owner, freshness, models using it."""
    check_format(fmt)
    entries = _entries(find_project(project_dir))
    if fmt == "json":
        print_json([e.as_json() for e in entries])
        return
    table = Table(title="feature views", title_justify="left")
    table.add_column("view", no_wrap=True)
    for column in ("entities", "features", "owner", "last materialized", "used by"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.name,
            ", ".join(e.join_keys),
            str(len(e.features)),
            e.owner or "-",
            _age(e.last_materialized),
            ", ".join(e.used_by) or "-",
        )
    console.print(
        table
        if entries
        else "No feature views registered yet: run the pipeline (`uv run nox -s pipeline`)."
    )


@features_app.command("show")
def features_show(
    name: Annotated[str, typer.Argument(help="A feature view name, from `strata features list`.")],
    fmt: Format = "table",
    project_dir: ProjectDir = None,
) -> None:
    """One feature view: its description, source, features and the model versions using it."""
    check_format(fmt)
    entries = {e.name: e for e in _entries(find_project(project_dir))}
    entry = entries.get(name)
    if entry is None:
        known = ", ".join(sorted(entries)) or "none"
        raise InvalidInputError(f"No feature view '{name}' (known: {known}).")
    if fmt == "json":
        print_json(entry.as_json())
        return
    console.print(_view_table(entry))
    features = Table(title="features", title_justify="left")
    features.add_column("feature")
    features.add_column("type")
    for feature, kind in entry.features:
        features.add_row(feature, kind)
    console.print(features)


def _view_table(entry: FeatureViewEntry) -> Table:
    table = Table(title=f"feature view {entry.name}", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    rows: list[tuple[str, Any]] = [
        ("description", entry.description or "-"),
        ("owner", entry.owner or "-"),
        ("entities", f"{', '.join(entry.entities)} (join keys {', '.join(entry.join_keys)})"),
        ("source", entry.source),
        ("ttl", f"{entry.ttl_seconds:.0f} s" if entry.ttl_seconds else "none"),
        ("last materialized", _age(entry.last_materialized)),
        ("used by", ", ".join(entry.used_by) or "no registered model version"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(entry.tags.items())) or "-"),
    ]
    for what, value in rows:
        table.add_row(what, str(value))
    return table
