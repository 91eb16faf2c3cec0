"""The `burstdeblur fuse` / `calibrate` commands, as a user runs them."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from burstdeblur.main import main
from burstdeblur.runtime.burst.blur_map import from_png16


def _run(*args):
    return subprocess.run([sys.executable, "-m", "burstdeblur", *args], capture_output=True, text=True)


def test_fuse_default_builtin_burst(tmp_path):
    out = tmp_path / "out"
    done = _run("fuse", "-o", str(out))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [".burstdeblur-output", "blur_degree.npy", "blur_degree.png", "blur_heatmap.png", "coverage.png", "fused.png", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 8
    assert summary["alignment"]["mode"] == "dense" and all(f["used"] for f in summary["merge"]["frames"])
    unit = np.load(out / "blur_degree.npy")
    png = cv2.imread(str(out / "blur_degree.png"), cv2.IMREAD_UNCHANGED)
    fused = cv2.imread(str(out / "fused.png"))
    assert png.dtype == np.uint16 and png.shape == fused.shape[:2] == unit.shape
    # the 16-bit image decodes to the same map (half a 16-bit step)
    assert np.abs(from_png16(png, 255.0) / 127.5 - unit).max() <= 0.5 / 65535 + 1e-7
    assert abs(summary["global_blur_unit"] - summary["global_blur"]) < 1e-12
    # the moving disc (left-centre) is blurrier than the static scene after alignment
    h, w = unit.shape
    # (the dense flow aligns part of the disc, so less than before the robust merge, still clearly above)
    assert unit[int(h * 0.6):int(h * 0.7), int(w * 0.25):int(w * 0.35)].mean() > 3 * np.median(unit)


def test_fuse_folder_with_options_matches_api(tmp_path, demo_burst):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(demo_burst.frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    out = tmp_path / "out"
    assert main(["fuse", str(folder), "-o", str(out), "--align", "off", "--weights", "1,2,3,4,5,6",
                 "--range", "percent", "--map-mode", "gray"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["weights"]["per_frame"] == pytest.approx(np.arange(1, 7) / 21)
    from reference import reference_fusion
    _, ref = reference_fusion(demo_burst.frames, np.arange(1, 7), "gray")
    assert np.abs(np.load(out / "blur_degree.npy") - ref / 127.5 * 100).max() < 1e-3
    assert summary["global_blur"] == pytest.approx(100 * summary["global_blur_unit"], rel=1e-9)
    assert summary["global_blur_unit"] == pytest.approx(float(ref.mean()) / 127.5, rel=1e-4)


@pytest.mark.parametrize("args, message", [
    (["fuse", "{tmp}/missing"], "no such file or folder"),
    (["fuse", "{tmp}/empty"], "no PNG/JPEG/TIFF frames"),
    (["fuse", "--n", "1"], "argument --n: must be in 2..256; got 1"),
    (["fuse", "--weights", "1,2"], "2 weights given for 8 frames"),
    (["fuse", "--weights", "1,-1,1,1,1,1,1,1"], "weights must be >= 0"),
    (["fuse", "--reference", "9"], "outside 0..7"),
    (["fuse", "--target-blur", "0.02"], "go together"),
])
def test_bad_input_exits_nonzero_without_outputs(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    done = _run(*[a.replace("{tmp}", str(tmp_path)) for a in args], "-o", str(out))
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.startswith("burstdeblur: error:")
    assert not out.exists()


def test_calibrate_then_fuse_with_target_blur(tmp_path):
    calib = tmp_path / "calib.json"
    done = _run("calibrate", "-o", str(calib), "--n-max", "6")
    assert done.returncode == 0, done.stderr
    data = json.loads(calib.read_text())
    assert data["slope"] > 0 and data["n_max"] == 6
    target = data["intercept"] + data["slope"] * 4
    out = tmp_path / "out"
    done = _run("fuse", "-o", str(out), "--calibration", str(calib), "--target-blur", f"{target}", "--seed", "7")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["window_selection"]["n"] == 4 and summary["n"] == 4
    done = _run("fuse", "-o", str(tmp_path / "o2"), "--calibration", str(calib), "--target-blur", "0.9")
    assert done.returncode == 2 and "outside the calibrated range" in done.stderr
