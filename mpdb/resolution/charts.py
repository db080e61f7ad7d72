"""`mpdb resolve charts`: the model's charts as standalone offline HTML.

Splink renders with vega; `to_html(inline=True)` embeds its bundled copies of vega, vega-lite and
vega-embed (splink/internals/files/external_js), so the files open without a network (no CDN).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mpdb.resolution.model import ChildModel
from mpdb.resolution.records import child_row


def _write(chart: Any, path: Path) -> Path:
    path.write_text(chart.to_html(inline=True), encoding="utf-8")
    return path


def model_charts(model: ChildModel, out_dir: Path, rows: list[dict[str, Any]] | None = None) -> tuple[Any, list[Path]]:
    placeholder = [{"unique_id": "x", "given_name": None, "given_keys": None, "family_name": None,
                    "family_parts": None, "dob": None, "dob_swapped": None, "sex": None, "postcode": None,
                    "upn": None, "lac_ref": None}]
    linker = model._linker(rows or placeholder)  # noqa: SLF001
    out_dir.mkdir(parents=True, exist_ok=True)
    v = model.version
    return linker, [_write(linker.visualisations.match_weights_chart(), out_dir / f"{v}-match-weights.html"),
                    _write(linker.visualisations.m_u_parameters_chart(), out_dir / f"{v}-m-u-parameters.html")]


def waterfall(model: ChildModel, linker: Any, pairs: list[tuple[str, str]], children: dict[str, dict[str, Any]],
              out_dir: Path, show_values: bool) -> Path | None:
    rows = {cid: model.with_tf(child_row(c)) for cid, c in children.items()}
    records = []
    for low, high in pairs:
        if low in rows and high in rows:
            records += linker.inference.score_pair(rows[low], rows[high]).as_record_list()
    if not records:
        return None
    chart = linker.visualisations.waterfall_chart(records, filter_nulls=True, remove_sensitive_data=not show_values)
    return _write(chart, out_dir / f"{model.version}-waterfall-proposed-pairs.html")


def write_charts(model: ChildModel, out_dir: Path, limit: int = 50, show_values: bool = False) -> list[Path]:
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.graph.repositories.resolution import proposed_pairs
    from mpdb.settings import get_settings

    async def read() -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
        settings = get_settings()
        driver = create_driver(settings)
        try:
            await verify_reachable(driver, settings)
            return await proposed_pairs(Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s), limit)
        finally:
            await driver.close()

    pairs, children = asyncio.run(read())
    linker, written = model_charts(model, out_dir)
    wf = waterfall(model, linker, pairs, children, out_dir, show_values)
    return written + ([wf] if wf else [])


__all__ = ["model_charts", "waterfall", "write_charts"]
