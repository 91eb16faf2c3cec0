"""The benchmark harness itself (tiny models and images, fast): statistics, files, one row per configuration."""
import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import bench_inference  # noqa: E402


def test_stats_match_numpy():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    s = bench_inference.stats(values)
    assert s["first"] == 5.0 and s["min"] == 1.0 and s["max"] == 5.0 and s["n"] == 5
    assert s["mean"] == pytest.approx(3.0) and s["std"] == pytest.approx(np.std(values))
    assert s["p50"] == 3.0 and s["p90"] == pytest.approx(np.percentile(values, 90))


@pytest.mark.slow
def test_harness_writes_one_row_per_configuration(tiny_models, tmp_path):
    models = tiny_models[0] / "m1"
    out = tmp_path / "bench"
    assert bench_inference.main(["--out", str(out), "--models", str(models), "--tile", "64", "--resolutions", "tiny",
                                 "--precisions", "int8", "fp32", "--backends", "litert", "onnx", "--runs", "2",
                                 "--warmup", "1", "--quality", "1", "--burst-n", "3"]) == 0
    report = json.loads((out / "results.json").read_text())
    assert len(report["results"]) == 4
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 4 and {r["backend"] for r in rows} == {"litert", "onnx"}
    for r in report["results"]:
        assert r["stages_ms"]["deblur"]["n"] == 3  # first run + 2 timed
        assert r["stages_ms"]["single_total"]["p50"] >= r["stages_ms"]["deblur"]["p50"]
        assert r["peak_rss_mb"] > 0
    fp32 = [q for q in report["quality"] if q.get("precision") == "fp32" and q["backend"] == "onnx"][0]
    assert fp32["psnr_vs_fp32"] > 100  # the reference against itself
    assert (out / "latency.png").stat().st_size > 0 and (out / "quality.png").stat().st_size > 0
    assert any("fp32 / int8" in k for k in report["ratios"])
