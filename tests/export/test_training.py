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


def test_stage1_learns_only_from_the_single_image_path(tmp_path):
    """The perception net serves the single-image path: stage 1 keeps the single and still samples of a
    both-paths dataset (as its manifest lists them) and leaves out the burst merges' residual maps."""
    from burstdeblur.export.training.train_data import PairDataset

    config = replace(DatasetConfig.tiny(), burst_share=0.4, still_share=0.3)
    build_dataset(resolve_sources(["builtin"]), tmp_path / "mix", 36, 1, config)
    samples = json.loads((tmp_path / "mix" / "dataset.json").read_text())["samples"]
    assert {r["path"] for r in samples} == {"single", "burst", "still"}
    for split in ("train", "val"):
        listed = {r["sample"]: r["path"] for r in samples if r["split"] == split}
        assert "burst" in listed.values()
        kept = PairDataset(tmp_path / "mix", split, 32, augment=False)
        kept.keep_paths(("single", "still"))
        assert sorted(p.name for p in kept.pairs) == sorted(s for s, path in listed.items() if path != "burst")
    card = train(TrainConfig.tiny(1), tmp_path / "mix", tmp_path / "run")
    assert list(card["train_config"]["perception_paths"]) == ["single", "still"]
    with pytest.raises(BurstError, match="perception paths"):
        train(replace(TrainConfig.tiny(1), perception_paths=("video",)), tmp_path / "mix", tmp_path / "bad")


def test_dilated_bottleneck_reaches_further_at_the_same_size():
    """PerceptionConfig.dilated(): the default's parameters and MACs, a wider receptive field (measured by
    which input pixels the centre output's gradient reaches)."""
    from burstdeblur.export.nets.model_stats import count_macs, count_parameters
    from burstdeblur.export.nets.net_configs import PerceptionConfig, build_perception

    def reach(net) -> int:
        torch.manual_seed(0)
        for m in net.modules():  # positive weights: no cancellation hides a connection
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.uniform_(m.weight, 0.01, 0.1)
                torch.nn.init.constant_(m.bias, 0.01)
        x = torch.rand(1, 3, 384, 384, requires_grad=True)
        net(x)[0, 0, 192, 192].backward()
        cols = torch.nonzero(x.grad.abs().sum((0, 1, 2)) > 0).flatten()
        return int(cols.max() - 192)

    default, dilated = (build_perception(c) for c in (PerceptionConfig.default(), PerceptionConfig.dilated()))
    assert [p.shape for p in default.parameters()] == [p.shape for p in dilated.parameters()]
    assert count_parameters(default) == count_parameters(dilated)
    x = torch.rand(1, 3, 256, 256)
    assert count_macs(lambda: default(x), [default]) == count_macs(lambda: dilated(x), [dilated])
    assert reach(dilated) == reach(default) + 32  # the 1/8 convs reach 2 and 4 px there, not 1 and 1: +8 + 24 px


def test_map_correlation_loss_matches_a_per_crop_pearson():
    """1 - Pearson r per crop against numpy's corrcoef, flat (still) targets left out, and scale-free."""
    import numpy as np

    from burstdeblur.export.training.training import map_correlation_loss

    torch.manual_seed(1)
    target = torch.rand(3, 1, 16, 16)
    target[2] = 0.0  # a sharp still: nothing to correlate with
    predicted = 0.5 * target + 0.1 * torch.rand(3, 1, 16, 16)
    expected = np.mean([1 - np.corrcoef(predicted[i].flatten().numpy(), target[i].flatten().numpy())[0, 1]
                        for i in (0, 1)])
    assert float(map_correlation_loss(predicted, target)) == pytest.approx(expected, abs=1e-5)
    assert float(map_correlation_loss(7 * predicted + 2, target)) == pytest.approx(expected, abs=1e-5)
    assert float(map_correlation_loss(-predicted[:2], target[:2])) == pytest.approx(2 - expected, abs=1e-5)
    assert float(map_correlation_loss(predicted[2:], target[2:])) == 0.0


def test_still_map_weight_weights_the_flat_crops_only():
    """MSE + (w - 1) * still_map_excess == the MSE with the flat-target crops counted w times."""
    from burstdeblur.export.training.training import still_map_excess

    torch.manual_seed(2)
    target, predicted = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    target[[1, 3]] = 0.0
    w = 4.0
    per_crop = ((predicted - target) ** 2).flatten(1).mean(1)
    weighted = (per_crop * torch.tensor([1.0, w, 1.0, w])).sum() / 4
    got = torch.nn.functional.mse_loss(predicted, target) + (w - 1) * still_map_excess(predicted, target)
    assert float(got) == pytest.approx(float(weighted), rel=1e-5)
    assert float(still_map_excess(predicted, target + 0.1)) == 0.0
    with pytest.raises(BurstError, match="still map weight"):
        replace(TrainConfig.tiny(1), still_map_weight=-1.0).check()


def test_compose_takes_the_perception_net_from_a_stage1_run(data, tmp_path):
    """compose_weights: the stage-3 file's deblur and SFT tensors, the stage-1 file's perception tensors, and a
    card naming the donor; a stage-1 file in the stage-3 slot is refused with one line."""
    from burstdeblur.export.training.compose_weights import main as compose_main

    train(TrainConfig.tiny(3), data, tmp_path / "s3")
    full = tmp_path / "s3" / "weights.safetensors"
    donor_card = train(replace(TrainConfig.tiny(1), seed=5), data, tmp_path / "s1")
    donor = tmp_path / "s1" / "weights.safetensors"
    out = tmp_path / "out" / "composed.safetensors"
    assert compose_main([str(full), str(donor), str(out)]) == 0
    got, f, d = (load_file(str(p)) for p in (out, full, donor))
    assert set(got) == set(f)
    for name, tensor in got.items():
        source = d if name.startswith("perception.") else f
        assert torch.equal(tensor, source[name]), name
    assert any(not torch.equal(f[k], d[k]) for k in d)  # the donor really differs
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["stage"] == 3 and card["perception_from"]["path"] == str(donor)
    assert card["perception_from"]["validation"] == donor_card["validation"]
    assert compose_main([str(donor), str(donor), str(tmp_path / "bad.safetensors")]) == 1
    assert not (tmp_path / "bad.safetensors").exists()
