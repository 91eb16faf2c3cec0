"""The shipped weights and exports: they belong together, they regenerate bit for bit, and quantization keeps
quality (quantcheck's bounds) - so CI fails on a quantization regression."""
import hashlib
import json
from pathlib import Path

import pytest

from conftest import run_export_isolated

from burstdeblur.main import main

ROOT = Path(__file__).parents[2]
MODELS = ROOT / "runtime" / "models"
WEIGHTS = ROOT / "export" / "weights"


def test_manifest_names_the_shipped_weights():
    manifest = json.loads((MODELS / "manifest.json").read_text())
    assert manifest["weights"]["sha256"] == hashlib.sha256((WEIGHTS / "default.safetensors").read_bytes()).hexdigest()
    assert all(v["ok"] for v in manifest["verification"])
    for entry in manifest["files"]:
        assert hashlib.sha256((MODELS / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


@pytest.mark.slow
def test_quantcheck_bounds_hold_on_the_shipped_models(capsys):
    pytest.importorskip("ai_edge_litert")
    assert main(["quantcheck", "--bursts", "4"]) == 0, capsys.readouterr().out


@pytest.mark.slow
def test_shipped_exports_regenerate_bit_for_bit(tmp_path):
    pytest.importorskip("litert_torch")
    assert run_export_isolated(["export", "--out", str(tmp_path / "models"), "--no-verify"]) == 0
    shipped = {e["file"]: e["sha256"] for e in json.loads((MODELS / "manifest.json").read_text())["files"]}
    again = {e["file"]: e["sha256"] for e in json.loads((tmp_path / "models" / "manifest.json").read_text())["files"]}
    assert again == shipped
