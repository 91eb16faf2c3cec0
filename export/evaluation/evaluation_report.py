"""Files of `burstdeblur evaluate`: JSON report, per-image CSV, markdown table and a before/after picture."""
from __future__ import annotations

import csv
import io
import json

import numpy as np

from burstdeblur.runtime.io.heatmap import render_heatmap
from burstdeblur.runtime.io.image_io import encode_png

from burstdeblur.export.data.contact_sheet import fit_cell, label_cell
from burstdeblur.export.evaluation.evaluation import summary_table
from burstdeblur.runtime.io.image_quality import psnr


def _rgb8(image: np.ndarray) -> np.ndarray:
    return image if image.dtype == np.uint8 else np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def example_strip(examples: list[dict]) -> np.ndarray:
    """One row per example: fused, true map, perception map, burst-path and single-image outputs, reference."""
    vmax = max(float(np.percentile(e["burst"].blur_map, 99.5)) for e in examples) or 1.0
    rows = []
    for e in examples:
        b, out = e["burst"], e["outputs"]
        cells = [label_cell(fit_cell(b.fused), f"fused {psnr(b.fused, b.sharp):.2f} dB"),
                 label_cell(fit_cell(render_heatmap(b.blur_map, vmax)[0]), "true blur map"),
                 label_cell(fit_cell(render_heatmap(e["predicted"], vmax)[0]), "perception map")]
        for key, name in (("full_burst", "burst path"), ("full_single", "single-image")):
            cells.append(label_cell(fit_cell(_rgb8(out[key])), f"{name} {psnr(out[key], b.sharp):.2f} dB"))
        cells.append(label_cell(fit_cell(b.sharp), f"reference ({b.kind})"))
        height = max(c.shape[0] for c in cells)
        cells = [np.pad(c, ((0, height - c.shape[0]), (0, 4), (0, 0)), constant_values=255) for c in cells]
        rows.append(np.concatenate(cells, axis=1))
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])


def report_files(result: dict, meta: dict) -> dict[str, bytes]:
    table = summary_table(result["summary"])
    report = {**meta, "summary": result["summary"], "per_image": result["rows"], "maps_per_image": result["map_rows"]}
    buffer = io.StringIO()
    keys = list(result["rows"][0])
    map_keys = [k for k in result["map_rows"][0] if k not in ("name", "kind")]
    writer = csv.writer(buffer)
    writer.writerow(keys + map_keys)
    for row, map_row in zip(result["rows"], result["map_rows"]):
        writer.writerow([row[k] if isinstance(row[k], str) else f"{row[k]:.4f}" for k in keys] +
                        [f"{map_row.get(k, float('nan')):.4f}" for k in map_keys])
    files = {"report.json": json.dumps(report, indent=1).encode(), "per_image.csv": buffer.getvalue().encode(),
             "summary.md": (table + "\n").encode()}
    if result["examples"]:
        files["examples.png"] = encode_png(example_strip(result["examples"]))
    return files
