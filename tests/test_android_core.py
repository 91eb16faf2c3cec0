"""android_demo/core: the golden files are what the Python runtime writes today, and the Java core
(javac --release 8, JUnit 5) reproduces them; the alignment through OpenCV's Java API matches the Python
runtime within its stated tolerance. Skipped with the reason when no JDK, JUnit or OpenCV Java is installed."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).parents[1] / "android_demo" / "core"
JUNIT = Path(os.environ.get("JUNIT", "/usr/share/java/junit-platform-console-standalone.jar"))
sys.path.insert(0, str(CORE.parent))
import make_golden  # noqa: E402


def test_golden_files_are_current(tmp_path):
    assert make_golden.main([str(tmp_path)]) == 0
    committed = sorted(p.name for p in (CORE / "golden").iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert (tmp_path / name).read_bytes() == (CORE / "golden" / name).read_bytes(), name


@pytest.mark.skipif(shutil.which("javac") is None or not JUNIT.exists(),
                    reason="needs a JDK and JUnit 5: apt-get install default-jdk-headless junit5 (.ci/run does)")
def test_java_core_matches_python():
    done = subprocess.run(["bash", str(CORE / "run_tests.sh")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "8 tests successful" in done.stdout and "0 tests failed" in done.stdout


JNA = Path(os.environ.get("JNA", "/usr/share/java/jna.jar"))


def _litert_library() -> Path | None:
    try:
        import ai_edge_litert
    except ImportError:
        return None
    path = Path(ai_edge_litert.__file__).parent / "libLiteRt.so"
    return path if path.exists() else None


@pytest.mark.skipif(shutil.which("javac") is None or not JNA.exists() or _litert_library() is None,
                    reason="needs a JDK, JNA (apt-get install libjna-java) and libLiteRt.so from the ai-edge-litert "
                           "2.3.0 wheel (pip install '.[litert]' on x86_64)")
def test_java_harness_through_the_litert_c_api_matches_python(tmp_path):
    """The app's burst path in Java (core/ fusion, map, tiling and int8 tensors; the shipped INT8 SFT and
    deblur graphs run by libLiteRt.so through JNA) against the Python runtime on the same frames."""
    import json

    import numpy as np

    from burstdeblur.runtime.burst.burst_input import from_array
    from burstdeblur.runtime.burst.burst_pipeline import FuseOptions
    from burstdeblur.runtime.burst.demo_burst import make_demo_burst
    from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions
    from burstdeblur.runtime.engine.model_store import shipped_models_dir

    frames = np.ascontiguousarray(make_demo_burst(n=4, seed=2).frames[:, 100:300, 150:450])  # [4, 200, 300, 3]
    expected = Deblurrer(InferenceOptions(backend="litert", precision="int8", tile=256)).burst(
        from_array(frames), FuseOptions(align=False)).deblurred
    models = shipped_models_dir()
    manifest = {e["file"]: e for e in json.loads((models / "manifest.json").read_text())["files"]}
    lines = []
    for graph in ("sft", "deblur"):
        entry = manifest[f"{graph}.256.int8.tflite"]
        for kind, specs in (("in", entry["inputs"]), ("out", entry["outputs"])):
            for k, spec in enumerate(specs):
                assert spec["tensor"] == ("args" if kind == "in" else "output") + f"_{k}"  # signature order
                lines.append(f"{graph}.{kind}{k} {spec['quantization']['scale']!r} {spec['quantization']['zero_point']}")
    (tmp_path / "quant.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "frames.txt").write_text(f"{frames.shape[0]} {frames.shape[1]} {frames.shape[2]} 256\n")
    (tmp_path / "frames.bin").write_bytes(make_golden.argb(frames).astype("<i4").tobytes())
    done = subprocess.run(["bash", str(CORE.parent / "harness" / "run_harness.sh"), str(_litert_library()),
                           str(models), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    got = np.frombuffer((tmp_path / "deblurred.bin").read_bytes(), "<u4").reshape(frames.shape[1:3])
    rgb = np.stack([(got >> 16) & 0xFF, (got >> 8) & 0xFF, got & 0xFF], axis=-1).astype(int)
    assert np.abs(rgb - expected.astype(int)).max() <= 1


OPENCV_JAR = Path(os.environ.get("OPENCV_JAR", "/usr/share/java/opencv.jar"))


@pytest.mark.skipif(shutil.which("javac") is None or not JUNIT.exists() or not OPENCV_JAR.exists(),
                    reason="needs a JDK, JUnit 5 and OpenCV's Java bindings: apt-get install default-jdk-headless "
                           "junit5 libopencv-java (.ci/run does)")
def test_java_alignment_through_opencv_matches_python():
    done = subprocess.run(["bash", str(CORE.parent / "align" / "run_tests.sh")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "5 tests successful" in done.stdout and "0 tests failed" in done.stdout
    assert done.stdout.count("displacement error mean") == 4  # every moved frame was compared
