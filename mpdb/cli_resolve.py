"""`mpdb resolve`: entity resolution (issue 12). Wired into mpdb/cli.py.

- `mpdb resolve` / `mpdb resolve run`: compare every child and propose likely duplicates
  (POSSIBLY_SAME_AS, for human review; nothing is merged);
- `mpdb resolve train`: retrain the model on synthetic data and write the next version file;
- `mpdb resolve charts --out DIR`: the model's charts (match weights, m/u) and a waterfall chart
  of the proposed pairs, as offline HTML (Splink's bundled vega; no CDN).
"""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)
out = Console()

ThresholdOpt = Annotated[float | None, typer.Option(
    "--threshold", min=0.0, max=1.0, help="Propose pairs at or above this match probability (default: the model's "
                                          "review threshold).")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model version, e.g. child-v1 (default: the newest).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Compare and count, write nothing.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Pairs per write transaction.")]

resolve_app = typer.Typer(
    help="Entity resolution: find children recorded more than once (docs/RESOLUTION.md). "
         "Without a subcommand: `run`.",
    invoke_without_command=True,
)


def _model(version: str | None) -> Any:
    from mpdb.resolution.model import ModelFileError, load_child_model

    try:
        return load_child_model(version)
    except ModelFileError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from None


def _principal() -> Any:
    from mpdb.auth.principal import Principal

    return Principal.system(subject=f"cli:{getpass.getuser()}")


def _run(threshold: float | None, version: str | None, dry_run: bool, batch_size: int) -> None:
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.resolution.batch import BATCH_TX_TIMEOUT_S, run_batch
    from mpdb.settings import get_settings

    model = _model(version)

    async def main() -> Any:
        settings = get_settings()
        driver = create_driver(settings)
        try:
            await verify_reachable(driver, settings)
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, disable=not console.is_terminal) as bar:
                tasks: dict[str, Any] = {}

                def tick(stage: str, n: int, total: int | None) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task({"read": "reading children", "compare": "comparing",
                                                     "write": "writing proposals"}[stage], total=total)
                    bar.update(tasks[stage], advance=n, total=total)

                graph = Graph(driver, settings.neo4j_database, max(settings.neo4j_query_timeout_s, BATCH_TX_TIMEOUT_S))
                return await run_batch(graph, model, _principal(), threshold=threshold, write_batch=batch_size,
                                       dry_run=dry_run, tick=tick)
        finally:
            await driver.close()

    res = asyncio.run(main())
    table = Table(title=f"mpdb resolve: model {res.model_version}, threshold {res.threshold:g}"
                        + (" (dry run: nothing written)" if dry_run else ""))
    for col in ("children", "candidate pairs", "at/above threshold", "created", "refreshed", "unchanged",
                "left decided", "one identity", "seconds"):
        table.add_column(col, justify="right")
    c = res.counts
    table.add_row(f"{res.children:,}", f"{res.candidate_pairs:,}", f"{res.above_threshold:,}", f"{c.created:,}",
                  f"{c.refreshed:,}", f"{c.unchanged:,}", f"{c.decided:,}", f"{c.same_identity:,}",
                  f"{sum(res.seconds.values()):.1f}")
    out.print(table)
    out.print("seconds: " + ", ".join(f"{stage} {s:.1f}" for stage, s in res.seconds.items()))
    if res.guarded:
        out.print(f"{res.guarded:,} pair(s) above the threshold not proposed: given names wholly different and no "
                  "shared reference (likely siblings)")


@resolve_app.callback()
def resolve(ctx: typer.Context, threshold: ThresholdOpt = None, model: ModelOpt = None, dry_run: DryRunOpt = False,
            batch_size: BatchOpt = 1_000) -> None:
    """Compare every child in the graph and propose likely duplicates for review (as `run`)."""
    if ctx.invoked_subcommand is None:
        _run(threshold, model, dry_run, batch_size)


@resolve_app.command("run")
def run(threshold: ThresholdOpt = None, model: ModelOpt = None, dry_run: DryRunOpt = False,
        batch_size: BatchOpt = 1_000) -> None:
    """Compare every child and write the pairs at or above the threshold as POSSIBLY_SAME_AS
    (idempotent: decided pairs and pairs already one identity are never proposed again)."""
    _run(threshold, model, dry_run, batch_size)


@resolve_app.command("train")
def train(
    children: Annotated[int | None, typer.Option("--children", min=1_000, help="Training children (default: the "
                                                                               "whole national profile).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the training data (keep it apart from evaluation "
                                                     "seeds).")] = 1201,
    duplicates: Annotated[float, typer.Option("--duplicates", min=0.001, max=0.5, help="Share of children recorded "
                                                                                       "twice.")] = 0.05,
    review_threshold: Annotated[float, typer.Option("--review-threshold", min=0.0, max=1.0)] = 0.9,
    version: Annotated[str | None, typer.Option("--version", help="Version name (default: the next child-vN).")] = None,
) -> None:
    """Retrain the model (u by random sampling, lambda from deterministic rules, m by EM) on synthetic
    data made for training, and write mpdb/resolution/models/<version>.json."""
    from mpdb.resolution import training

    if version is not None and not version.replace("-", "").isalnum():
        raise typer.BadParameter("letters, digits and hyphens only", param_hint="--version")
    ver = version or training.next_version()
    console.print(f"[dim]generating training data (national profile, seed {seed})[/dim]")
    data = training.synthetic_set(training.TRAINING_PROFILE, children, seed, duplicates)
    console.print(f"[dim]{data.description}; training[/dim]")
    path, model = training.train(data, ver, review_threshold)
    out.print(f"wrote {path} ({model['mpdb']['training_seconds']} s)")


@resolve_app.command("charts")
def charts(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the HTML files (created).")],
    model: ModelOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000, help="Proposed pairs in the waterfall.")] = 50,
    show_values: Annotated[bool, typer.Option(
        "--show-values", help="Put the compared values (names, dates of birth) in the waterfall chart. Off: "
                              "levels and weights only, so the file holds no personal data.")] = False,
) -> None:
    """Write the model's match-weights and m/u charts, and a waterfall chart of the proposed pairs,
    as standalone offline HTML (Splink's bundled vega)."""
    from mpdb.resolution.charts import write_charts

    m = _model(model)
    written = write_charts(m, out_dir, limit=limit, show_values=show_values)
    for p in written:
        out.print(f"wrote {p}")
