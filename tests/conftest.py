import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def demo_burst():
    from burstdeblur.runtime.demo_burst import make_demo_burst

    return make_demo_burst(n=6, seed=3)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """A tiny three-net model trained a few steps on CC0 crops, exported at tiles 64 and 32 (about 1.5 min).
    Returns (root, export args): root holds data/, s3/ (weights + card) and m1/ (models + manifest)."""
    pytest.importorskip("litert_torch")
    pytest.importorskip("onnxruntime")
    from burstdeblur.export.dataset_sources import resolve_sources
    from burstdeblur.export.dataset_writer import DatasetConfig, build_dataset
    from burstdeblur.export.training import TrainConfig, train
    from burstdeblur.main import main

    root = tmp_path_factory.mktemp("export")
    data = root / "data"
    build_dataset(resolve_sources(["builtin"]), data, 8, 5, DatasetConfig.tiny())
    train(TrainConfig.tiny(3), data, root / "s3")
    args = ["export", "--weights", str(root / "s3" / "weights.safetensors"), "--tiles", "64", "32",
            "--calibration-samples", "4", "--calibration-data", str(data)]
    assert main([*args, "--out", str(root / "m1")]) == 0
    return root, args
