"""Staged training on a tiny real dataset: stages 1-3, resuming, safetensors cards, and DDP with 2 gloo processes."""
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from burstdeblur.export.data.dataset_sources import resolve_sources
from burstdeblur.export.data.dataset_writer import DatasetConfig, build_dataset
from burstdeblur.export.training.training import TrainConfig, charbonnier, train
from burstdeblur.main import main
from burstdeblur.runtime.errors import BurstError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "data"
    build_dataset(resolve_sources(["builtin"]), out, 12, 1, DatasetConfig.tiny())
    return out


def test_three_stages_chain(data, tmp_path):
    cards = {}
    for stage in (1, 2):
        cards[stage] = train(TrainConfig.tiny(stage), data, tmp_path / f"s{stage}")
    cards[3] = train(TrainConfig.tiny(3), data, tmp_path / "s3",
                     init_from=[tmp_path / "s1" / "weights.safetensors", tmp_path / "s2" / "weights.safetensors"])
    assert set(cards[1]["validation"]) == {"step", "loss", "map_mae", "map_pearson"}
    assert set(cards[3]["validation"]) >= {"psnr", "psnr_input", "psnr_true_map"}
    assert [p["path"] for p in cards[3]["init_from"]] == [str(tmp_path / "s1" / "weights.safetensors"),
                                                         str(tmp_path / "s2" / "weights.safetensors")]
    assert cards[3]["hardware"]["cpu_cores"] >= 1 and cards[3]["seconds_total"] >= cards[3]["seconds_this_run"]
    names = {k.split(".")[0] for k in load_file(str(tmp_path / "s3" / "weights.safetensors"))}
    assert names == {"perception", "deblur", "sft"}
    assert {k.split(".")[0] for k in load_file(str(tmp_path / "s1" / "weights.safetensors"))} == {"perception"}
    card = json.loads((tmp_path / "s2" / "card.json").read_text())
    assert card["steps"] == 6 and len(card["data"]["dataset_json_sha256"]) == 64
    assert (tmp_path / "s2" / "training.png").stat().st_size > 1000


def test_stage3_starts_from_earlier_weights(data, tmp_path):
    train(TrainConfig.tiny(1), data, tmp_path / "s1")
    before = load_file(str(tmp_path / "s1" / "weights.safetensors"))
    config = replace(TrainConfig.tiny(3), steps=1, lr=1e-12, lr_min=1e-12, val_every=1)
    train(config, data, tmp_path / "s3", init_from=[tmp_path / "s1" / "weights.safetensors"])
    after = load_file(str(tmp_path / "s3" / "weights.safetensors"))
    for key, value in before.items():  # a near-zero learning rate: the perception weights carried over
        torch.testing.assert_close(after[key], value, atol=1e-6, rtol=0)


def test_stage3_scores_both_paths():
    """Stage 3's joint step: the perception map, the output steered by it (the plain stage-3 forward) and the
    output steered by the true map, each recomputed here from the nets themselves."""
    from burstdeblur.export.training.training import Pipeline

    torch.manual_seed(0)
    pipeline = Pipeline(TrainConfig.tiny(3)).eval()
    for param in pipeline.sft.parameters():  # its output layers start at zero (identity modulation)
        param.data.normal_(0, 0.3)
    blurred, bmap = torch.rand(2, 3, 32, 32), torch.rand(2, 1, 32, 32) * 0.2
    with torch.no_grad():
        predicted, single, burst = pipeline(blurred, bmap, True)
        torch.testing.assert_close(predicted, pipeline.perception(blurred))
        torch.testing.assert_close(single, pipeline(blurred, bmap))
        torch.testing.assert_close(burst, pipeline.deblur(blurred, pipeline.sft(bmap)))
    assert not torch.allclose(single, burst)  # the two maps steer the same nets differently


def test_resume_continues_from_checkpoint(data, tmp_path):
    config = TrainConfig.tiny(2)
    train(replace(config, steps=3), data, tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert meta["step"] == 3
    with pytest.raises(BurstError, match="another config"):
        train(replace(config, steps=3, lr=0.5), data, tmp_path / "run")
    # same config but more steps is a different config too: resuming needs the run's own settings
    ckpt = load_file(str(tmp_path / "run" / "checkpoint.safetensors"))
    assert any(k.startswith("optim.") and k.endswith("exp_avg") for k in ckpt)
    card = train(replace(config, steps=3), data, tmp_path / "run")  # already done: nothing to train
    assert card["steps"] == 3


def test_charbonnier_is_l1_like():
    x, y = torch.zeros(4), torch.tensor([0.0, 0.1, 0.2, 0.4])
    assert float(charbonnier(x, y, eps=1e-6)) == pytest.approx(0.175, abs=1e-5)


def test_cli_train_tiny(data, tmp_path):
    assert main(["train", "--stage", "1", "--config", "tiny", "--data", str(data), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "weights.safetensors").exists()


@pytest.mark.slow
def test_ddp_two_gloo_processes(data, tmp_path):
    """torchrun with 2 CPU processes: DistributedDataParallel on the gloo backend, same code path."""
    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "burstdeblur", "train", "--stage", "2",
           "--config", "tiny", "--data", str(data), "--out", str(tmp_path / "ddp")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((tmp_path / "ddp" / "card.json").read_text())
    assert card["processes"] == 2 and card["steps"] == 6
