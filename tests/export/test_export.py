"""Exporters on a tiny trained model: every file verified against torch, INT8 graphs integer throughout,
manifest hashes, bit-for-bit regeneration, and bad input refused with nothing written."""
import hashlib
import json

import numpy as np
import pytest

from conftest import run_export_isolated

pytest.importorskip("litert_torch")
pytest.importorskip("onnxruntime")

from burstdeblur.export.convert.tflite_export import float_ops, graph_ops  # noqa: E402
from burstdeblur.main import main  # noqa: E402


@pytest.fixture(scope="module")
def exported(tiny_models):
    return tiny_models


def test_every_file_is_listed_hashed_and_verified(exported):
    root, _ = exported
    manifest = json.loads((root / "m1" / "manifest.json").read_text())
    files = sorted(p.name for p in (root / "m1").iterdir() if p.name != "manifest.json")
    assert sorted(e["file"] for e in manifest["files"]) == files
    assert len(files) == 4 * 2 + 4 * 2 * 3  # ONNX fp32/int8 + TFLite fp32/fp16/int8 per tile, 4 graphs
    for e in manifest["files"]:
        assert hashlib.sha256((root / "m1" / e["file"]).read_bytes()).hexdigest() == e["sha256"]
    assert manifest["verification"] and all(v["ok"] for v in manifest["verification"])
    assert manifest["weights"]["sha256"] == hashlib.sha256((root / "s3" / "weights.safetensors").read_bytes()).hexdigest()


def test_int8_tflite_is_integer_from_input_to_output(exported):
    root, _ = exported
    manifest = json.loads((root / "m1" / "manifest.json").read_text())
    for e in manifest["files"]:
        if e["format"] != "tflite":
            continue
        payload = (root / "m1" / e["file"]).read_bytes()
        if e["precision"] == "int8":
            assert float_ops(payload) == [], e["file"]
            ops = graph_ops(payload)
            assert all(t == "int8" or t == "int32" for op in ops for t in op["inputs"] + op["outputs"]), e["file"]
            for t in e["inputs"] + e["outputs"]:
                assert t["dtype"] == "int8" and t["quantization"]["scale"] > 0
            assert e["inputs"][0]["name"] != "image" or abs(e["inputs"][0]["quantization"]["scale"] - 1 / 255) < 1e-4
        else:
            assert all(t["quantization"] is None for t in e["inputs"] + e["outputs"])
        assert e["inputs"][0]["layout"] == "NHWC" and e["inputs"][0]["shape"][1:3] == [e["tile"], e["tile"]]


def test_int8_deblurred_images_reach_full_scale(exported):
    """The INT8 output is pinned to [0, 1] (code = 8-bit value - 128), not calibrated: a calibrated range
    followed the calibration crops, and the shipped generation-2 graphs turned every pixel above 244 into
    244. Checked by running them: a near-white photo stays near white, in TFLite and ONNX, both paths."""
    from burstdeblur.runtime.engine.backends import open_session
    from burstdeblur.runtime.engine.model_store import ModelStore

    root, _ = exported
    store = ModelStore(root / "m1")
    manifest = json.loads((root / "m1" / "manifest.json").read_text())
    tile = manifest["tiles"][0]
    for e in manifest["files"]:
        if e["precision"] == "int8" and e["format"] == "tflite" and e["graph"] in ("deblur", "single"):
            q = e["outputs"][0]["quantization"]
            assert abs(q["scale"] - 1 / 255) < 1e-7 and q["zero_point"] == -128, e["file"]
    white = np.full((1, 3, tile, tile), 250 / 255, np.float32)
    flat_map = np.zeros((1, 1, tile, tile), np.float32)
    for backend in ("litert", "onnx"):
        sft = open_session(store, "sft", backend, "int8", tile, threads=1)
        deblur = open_session(store, "deblur", backend, "int8", tile, threads=1)
        single = open_session(store, "single", backend, "int8", tile, threads=1)
        for out in (deblur.run([white, *sft.run([flat_map])])[0], single.run([white])[0]):
            assert np.median(out) > 246 / 255, (backend, float(np.median(out)) * 255)


def test_onnx_graphs_take_any_size(exported):
    import onnxruntime as ort

    root, _ = exported
    session = ort.InferenceSession(str(root / "m1" / "single.fp32.onnx"), providers=["CPUExecutionProvider"])
    for h, w in ((32, 48), (80, 40)):
        deblurred, blur_map = session.run(None, {"image": np.random.default_rng(0).random((1, 3, h, w), np.float32)})
        assert deblurred.shape == (1, 3, h, w) and blur_map.shape == (1, 1, h, w)


@pytest.mark.slow
def test_export_is_bit_for_bit_reproducible(exported):
    root, args = exported
    assert run_export_isolated([*args, "--no-verify", "--out", str(root / "m2")]) == 0
    first = {e["file"]: e["sha256"] for e in json.loads((root / "m1" / "manifest.json").read_text())["files"]}
    second = {e["file"]: e["sha256"] for e in json.loads((root / "m2" / "manifest.json").read_text())["files"]}
    assert first == second


def test_bad_requests_write_nothing(exported, tmp_path):
    root, args = exported
    out = tmp_path / "bad"
    assert main(["export", "--weights", str(root / "s3" / "weights.safetensors"), "--tiles", "60",
                 "--out", str(out)]) == 2
    assert main(["export", "--weights", str(tmp_path / "missing.safetensors"), "--out", str(out)]) == 2
    assert not out.exists()
    assert main([*args, "--out", str(root / "m1")]) == 2  # not an empty folder: refused, left alone


def test_quantcheck_reports_and_fails_on_a_broken_bound(exported, capsys):
    """A tiny model's INT8 files are mostly container overhead, so the size bound breaks: exit status 1.
    Its quality drops, computed by the same code, must still be small and the ONNX/TFLite FP32 outputs agree."""
    root, _ = exported
    status = main(["quantcheck", "--models", str(root / "m1"), "--tile", "64", "--bursts", "2",
                   "--json", str(root / "qc.json")])
    report = json.loads((root / "qc.json").read_text())
    assert status == 1 and not report["ok"]
    rows = {r["check"]: r for r in report["rows"]}
    assert not rows["deblur tflite int8 size / fp32 size"]["ok"]
    assert rows["ONNX fp32 vs TFLite fp32: max |diff| of every output"]["ok"]
    assert rows["burst path, tflite fp16 vs fp32: PSNR drop (dB)"]["ok"]
    assert "BOUNDS BROKEN" in capsys.readouterr().out
    assert main(["quantcheck", "--models", str(root / "m1"), "--tile", "48"]) == 2  # no such tile: error
