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


# FP32 and FP16 files depend only on the weights and the exporters: they regenerate bit for bit. INT8 files
# also depend on calibration statistics, and the calibration bursts pass through OpenCV (remap, DIS flow),
# whose float kernels take different SIMD paths on different CPUs of one family: between two EPYC hosts the
# regenerated scales differed by at most 0.43% (0.05% inside the ONNX graphs), zero points by at most 1 and
# int32 biases in proportion to their scales. INT8 files are therefore compared as graphs: the same tensors
# with the same shapes and types, integer weights within one code, scales within 2%.
SCALE_RTOL = 0.02


def _close_int(a, b) -> bool:
    """int8/uint8 codes within one step; int32 biases (bias scale = input scale x weight scale) in proportion."""
    import numpy as np

    a, b = a.astype(np.int64), b.astype(np.int64)
    return bool((np.abs(a - b) <= np.maximum(1, SCALE_RTOL * np.abs(a))).all())


def _close_float(a, b) -> bool:
    import numpy as np

    return bool((np.abs(a - b) <= SCALE_RTOL * np.abs(a) + 1e-12).all())


def _onnx_graph_differences(shipped: Path, again: Path) -> list[str]:
    import onnx
    from onnx import numpy_helper

    a, b = onnx.load(str(shipped)).graph, onnx.load(str(again)).graph
    if [(n.op_type, list(n.input), list(n.output)) for n in a.node] != \
            [(n.op_type, list(n.input), list(n.output)) for n in b.node]:
        return [f"{shipped.name}: the graph's nodes differ"]
    ia = {i.name: numpy_helper.to_array(i) for i in a.initializer}
    ib = {i.name: numpy_helper.to_array(i) for i in b.initializer}
    if ia.keys() != ib.keys():
        return [f"{shipped.name}: initializer names differ"]
    out = []
    for name, x in ia.items():
        y = ib[name]
        if x.dtype != y.dtype or x.shape != y.shape or \
                not (_close_float(x, y) if x.dtype.kind == "f" else _close_int(x, y)):
            out.append(f"{shipped.name}: initializer {name} differs beyond calibration noise")
    return out


def _tflite_graph_differences(shipped: Path, again: Path) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    ta, tb = Interpreter(str(shipped)).get_tensor_details(), Interpreter(str(again)).get_tensor_details()
    if [(t["name"], list(t["shape"]), t["dtype"]) for t in ta] != [(t["name"], list(t["shape"]), t["dtype"]) for t in tb]:
        return [f"{shipped.name}: tensors differ"]
    out = []
    for x, y in zip(ta, tb):
        qa, qb = x["quantization_parameters"], y["quantization_parameters"]
        if len(qa["scales"]) != len(qb["scales"]) or not _close_float(qa["scales"], qb["scales"]) or \
                not _close_int(qa["zero_points"], qb["zero_points"]):
            out.append(f"{shipped.name}: quantization of {x['name']} differs beyond calibration noise")
    return out


def _manifest_without_calibration_numbers(entry: dict) -> dict:
    """A manifest entry less what calibration noise may move: hash, size and each tensor's quantization."""
    strip = lambda tensors: [{k: v for k, v in t.items() if k != "quantization"} for t in tensors]  # noqa: E731
    return {**{k: v for k, v in entry.items() if k not in ("sha256", "bytes")},
            "inputs": strip(entry["inputs"]), "outputs": strip(entry["outputs"])}


@pytest.mark.slow
def test_shipped_exports_regenerate_from_the_shipped_weights(tmp_path):
    """Re-exporting the shipped weights gives the shipped set: FP32/FP16 bit for bit, INT8 the same graphs
    with calibration numbers within the cross-host tolerance above."""
    pytest.importorskip("litert_torch")
    assert run_export_isolated(["export", "--out", str(tmp_path / "models"), "--no-verify"]) == 0
    shipped = {e["file"]: e for e in json.loads((MODELS / "manifest.json").read_text())["files"]}
    again = {e["file"]: e for e in json.loads((tmp_path / "models" / "manifest.json").read_text())["files"]}
    assert again.keys() == shipped.keys()
    problems = []
    for name, entry in shipped.items():
        other = again[name]
        if entry["precision"] != "int8":
            if other["sha256"] != entry["sha256"]:
                problems.append(f"{name}: not bit for bit")
            continue
        if _manifest_without_calibration_numbers(other) != _manifest_without_calibration_numbers(entry):
            problems.append(f"{name}: manifest entry differs")
        compare = _onnx_graph_differences if name.endswith(".onnx") else _tflite_graph_differences
        problems += compare(MODELS / name, tmp_path / "models" / name)
    assert not problems, problems


def test_int8_comparison_tolerates_calibration_noise_only():
    """The INT8 tolerance lets through what two hosts' calibrations differ by, and nothing like a retrained net."""
    import numpy as np

    scales = np.float32([0.0013264, 0.0020165])
    assert _close_float(scales, scales * np.float32(1.0043))
    assert not _close_float(scales, scales * np.float32(1.05))
    assert _close_int(np.int8([-18, 3]), np.int8([-17, 3]))
    assert not _close_int(np.int8([-18, 3]), np.int8([-16, 3]))
    assert _close_int(np.int32([120000]), np.int32([120014]))
    assert not _close_int(np.int32([120000]), np.int32([130000]))
