"""On-device inference on real exported files (a tiny trained model): backends agree, tiling has no seams,
delegates fall back visibly, bad models and inputs are refused, the CLI writes all or nothing."""
import json
import shutil

import numpy as np
import pytest

from burstdeblur.main import main
from burstdeblur.runtime.engine.backends import open_session
from burstdeblur.runtime.burst.demo_burst import make_demo_burst_and_reference, shipped_image
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import encode_png
from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions
from burstdeblur.runtime.engine.model_store import ModelStore


@pytest.fixture(scope="module")
def models(tiny_models):
    return tiny_models[0] / "m1"


def options(models, **kw):
    return InferenceOptions(**{"models": str(models), "tile": 64, **kw})


def crop(h=152, w=200):
    return np.ascontiguousarray(shipped_image()[:h, :w])


def test_litert_and_onnx_fp32_agree(models):
    image = crop()
    a = Deblurrer(options(models, backend="litert", precision="fp32")).single_image(image)
    b = Deblurrer(options(models, backend="onnx", precision="fp32")).single_image(image)
    assert np.abs(a.deblurred.astype(int) - b.deblurred.astype(int)).max() <= 1
    assert np.abs(a.blur_map - b.blur_map).max() < 1e-4
    assert set(a.timings_ms) == {"load", "perception", "sft", "deblur", "tiling_overhead"}


def test_tiled_equals_one_untiled_pass(models):
    """The ONNX graphs take any size: one pass over the whole image is the reference for the tiled run."""
    image = crop(192, 256)  # 192 - 64 and 256 - 64 are multiples of 8: no padding
    store = ModelStore(models)
    s = {g: open_session(store, g, "onnx", "fp32") for g in ("perception", "sft", "deblur")}
    x = np.transpose(image.astype(np.float32) / 255, (2, 0, 1))[None]
    m = s["perception"].run([x])[0]
    y = s["deblur"].run([x, *s["sft"].run([m])])[0]
    full = np.rint(np.clip(np.transpose(y[0], (1, 2, 0)), 0, 1) * 255)
    tiled = Deblurrer(options(models, backend="onnx", precision="fp32", margin=16, feather=8)).single_image(image)
    mse = np.mean((tiled.deblurred.astype(float) - full) ** 2)
    assert 10 * np.log10(255 ** 2 / max(mse, 1e-12)) >= 50.0


def test_burst_path_uses_the_true_map(models):
    burst, _ = make_demo_burst_and_reference(n=4, seed=1)
    frames = burst.frames[:, :96, :128]
    from burstdeblur.runtime.burst.burst_input import from_array
    from burstdeblur.runtime.burst.burst_pipeline import FuseOptions
    from burstdeblur.runtime.burst.fusion import fuse_and_blur_map

    result = Deblurrer(options(models, precision="fp32")).burst(from_array(frames), FuseOptions(align=False))
    fusion = fuse_and_blur_map(frames)
    assert np.array_equal(result.fused, fusion.fused)
    assert np.allclose(result.blur_map, fusion.blur_raw / 127.5, atol=1e-6)
    assert "perception" not in result.timings_ms and result.timings_ms["burst_fuse_and_map"] > 0


def test_aligned_burst_path_gives_the_nets_the_residual_map(models, demo_burst):
    """With the robust merge the nets get the spread under the merge weights, not the blur-degree map."""
    from burstdeblur.runtime.burst.burst_pipeline import FuseOptions, process_burst

    burst = demo_burst
    result = Deblurrer(options(models, precision="fp32")).burst(burst, FuseOptions.default())
    fused = process_burst(burst, FuseOptions.default())
    assert np.array_equal(result.fused, fused.fused)
    assert np.allclose(result.blur_map, fused.residual_raw / 127.5, atol=1e-6)
    assert not np.allclose(fused.residual_raw, fused.blur_raw, atol=1e-3)


def test_missing_delegate_falls_back_to_cpu_and_says_so(models):
    image = crop(64, 64)
    cpu = Deblurrer(options(models)).single_image(image)
    gpu = Deblurrer(options(models, accelerator="gpu")).single_image(image)
    assert set(gpu.fallbacks) == {"perception", "sft", "deblur"} and "CPU" in gpu.fallbacks["deblur"]
    assert np.array_equal(cpu.deblurred, gpu.deblurred)
    ort = Deblurrer(options(models, backend="onnx", precision="int8", accelerator="nnapi"))
    assert "NnapiExecutionProvider" in ort.fallbacks["deblur"]
    # A path that does not exist, and a real shared library that is no delegate (libm): CPU, with the reason.
    for bogus in ("/nonexistent/libdelegate.so", "libm.so.6"):
        other = Deblurrer(options(models, accelerator=bogus))
        assert "could not be loaded" in other.fallbacks["deblur"] and other.devices["deblur"].startswith("cpu/")
        assert np.array_equal(cpu.deblurred, other.single_image(image).deblurred)


def test_tampered_or_mismatched_models_are_refused(models, tmp_path):
    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    path = copy / "deblur.64.int8.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BurstError, match="sha256"):
        Deblurrer(options(copy))
    # A manifest that lies about a shape: the backend's own view of the file is checked against it.
    shutil.copy(models / "deblur.64.int8.tflite", path)
    manifest = json.loads((copy / "manifest.json").read_text())
    entry = next(e for e in manifest["files"] if e["file"] == "deblur.64.int8.tflite")
    entry["inputs"][0]["shape"] = [1, 32, 32, 3]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BurstError, match="manifest says"):
        Deblurrer(options(copy))
    with pytest.raises(BurstError, match="tiles"):
        Deblurrer(options(models, tile=128))


def test_bad_images_are_refused(models):
    d = Deblurrer(options(models))
    with pytest.raises(BurstError, match="RGB"):
        d.single_image(np.zeros((64, 64, 4), np.uint8))
    with pytest.raises(BurstError, match="8-bit"):
        d.single_image(np.zeros((64, 64, 3), np.uint16))


def test_deblur_and_demo_commands(models, tmp_path, capsys):
    image = tmp_path / "photo.png"
    image.write_bytes(encode_png(crop()))
    out = tmp_path / "single"
    assert main(["deblur", str(image), "-o", str(out), "--models", str(models), "--tile", "64"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".burstdeblur-output", "blur_heatmap.png", "deblurred.png", "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["path"] == "single" and report["devices"]["deblur"].startswith("cpu/xnnpack")
    # RGBA photo: one error line, exit 2, no folder.
    rgba = tmp_path / "rgba.png"
    rgba.write_bytes(encode_png(np.zeros((64, 64, 4), np.uint8)))
    assert main(["deblur", str(rgba), "-o", str(tmp_path / "bad"), "--models", str(models), "--tile", "64"]) == 2
    assert not (tmp_path / "bad").exists()
    demo = tmp_path / "demo"
    assert main(["demo", "-o", str(demo), "--models", str(models), "--tile", "64"]) == 0
    assert sorted(p.name for p in demo.iterdir()) == [".burstdeblur-output", "demo.png", "index.html", "report.json"]
    assert set(json.loads((demo / "report.json").read_text())["psnr_db"]) == {"middle_frame", "merged", "burst_path",
                                                                         "single_image_path"}


def test_delegate_failing_at_run_time_falls_back_to_cpu(models):
    """No GPU here, so the failing delegate is simulated: its runner raises as a broken delegate would;
    the CPU fallback is a real LiteRT interpreter, and the session says what happened."""
    from burstdeblur.runtime.engine.backends import DelegateInvoker

    store = ModelStore(models)
    session = open_session(store, "deblur", "litert", "fp32", 64)
    x = [np.random.default_rng(4).random(s["shape"], dtype=np.float32).transpose(0, 3, 1, 2)
         for s in session.entry.inputs]
    expected = session.run(x)

    def broken(**feed):
        raise RuntimeError("GPU delegate: kernel launch failed")

    cpu_session = open_session(store, "deblur", "litert", "fp32", 64)
    invoker = DelegateInvoker(cpu_session, broken, True, lambda: (_cpu_runner(store, cpu_session.entry), "cpu/xnnpack"))
    feed = {s["tensor"]: np.ascontiguousarray(a.transpose(0, 2, 3, 1)) for s, a in zip(cpu_session.entry.inputs, x)}
    out = invoker(feed)[cpu_session.entry.outputs[0]["tensor"]]
    assert np.allclose(out.transpose(0, 3, 1, 2), expected[0], atol=1e-6)
    assert "failed at run time" in cpu_session.fallback and cpu_session.device == "cpu/xnnpack"
    with pytest.raises(BurstError, match="failed to run"):  # without a delegate there is nothing to fall back from
        DelegateInvoker(cpu_session, broken, False, None)(feed)


def _cpu_runner(store, entry):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=store.read(entry), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter.get_signature_runner()
