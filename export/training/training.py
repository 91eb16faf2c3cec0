"""Staged training of the three nets (patent fig. 12), resumable, seeded, and DDP-ready.

Stage 1: perception net on (sample -> label 1), MSE (the patent's loss).
Stage 2: deblur + SFT nets on (sample, true label 1 -> label 2).
Stage 3: all three jointly, sample -> perception -> SFT -> deblur, against label 2. One SFT + deblur
pair serves both paths, so by default (``joint_paths``) each step also scores the same nets steered by
the true map (what the burst path feeds them) and keeps the perception map near label 1; without that,
joint fine-tuning on perception maps alone drifted the pair away from the true map and cost the burst
path (0.15 dB on generation 1).

Stages 2 and 3 use a Charbonnier loss sqrt((x - y)^2 + eps^2): it behaves
like L1, which restoration nets train better with than MSE (MSE over-weights
the few large errors at edges and gives smoother results), and unlike L1 it is
smooth at zero. Validation reports PSNR either way.

The same code runs on one CPU, a GPU, or many processes under `torchrun`
(DistributedDataParallel; gloo on CPU, nccl on GPU): rank 0 validates and
writes checkpoints, every rank sees its own shard of the data.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler
from tqdm import tqdm

from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.nets.net_configs import (DEBLUR_CONFIGS, PERCEPTION_CONFIGS, build_deblur, build_perception, config_json)
from burstdeblur.export.training.train_data import PairDataset
from burstdeblur.export.training.training_plot import plot_history

STAGES = (1, 2, 3)


@dataclass(frozen=True)
class TrainConfig:
    stage: int
    steps: int = 20000
    batch: int = 8
    crop: int = 128
    lr: float = 1e-3
    lr_min: float = 1e-5  # cosine decay to this
    val_every: int = 500
    val_samples: int = 64
    checkpoint_every: int = 250
    seed: int = 0
    workers: int = 2
    perception: str = "default"
    deblur: str = "default"
    joint_paths: bool = True  # stage 3: loss on both paths + the map term (module docstring)
    map_weight: float = 1.0  # stage 3: weight of the perception map's MSE against label 1
    # Stage 1 learns, and is validated, only on the samples of the path the perception net serves: the single-
    # image path (blurred photos, and sharp stills with map 0). A burst sample's label 1 is the residual map
    # after alignment and merge - mostly noise and local motion no single image shows - and the burst path
    # computes that map itself, so it never asks the perception net for it.
    perception_paths: tuple[str, ...] = ("single", "still")
    # Stage 1: weight of (1 - Pearson r) per crop next to the MSE. The MSE is dominated by each crop's overall
    # level (how far the camera moved, which one image barely shows); the correlation term rewards the
    # map's pattern - where the blur is - which is what the SFT net turns into per-pixel modulation.
    map_correlation_weight: float = 0.0
    # Stage 1: weight of the MSE on crops whose target map is flat zero (sharp stills) relative to the others.
    # A sharp photo must get a map near 0, or the SFT net turns texture into deblurring (issue: sharp photos
    # left alone); with 1 those crops count as much as any other.
    still_map_weight: float = 1.0

    @staticmethod
    def default(stage: int) -> "TrainConfig":
        return TrainConfig(stage=stage)

    @staticmethod
    def tiny(stage: int) -> "TrainConfig":
        return TrainConfig(stage=stage, steps=6, batch=2, crop=32, val_every=3, val_samples=4, checkpoint_every=3,
                           workers=0, perception="tiny", deblur="tiny")

    def check(self) -> None:
        if self.stage not in STAGES:
            raise BurstError(f"stage must be one of {STAGES}, got {self.stage}")
        if self.crop % 8:
            raise BurstError(f"crop must be a multiple of 8 (three 2x poolings), got {self.crop}")
        for name, table in (("perception", PERCEPTION_CONFIGS), ("deblur", DEBLUR_CONFIGS)):
            if getattr(self, name) not in table:
                raise BurstError(f"unknown {name} config {getattr(self, name)!r}; choose from {', '.join(table)}")
        if not set(self.perception_paths) <= {"single", "burst", "still"} or not self.perception_paths:
            raise BurstError(f"perception paths must be some of single, burst, still; got {self.perception_paths}")
        if not (self.map_correlation_weight >= 0 and math.isfinite(self.map_correlation_weight)):
            raise BurstError(f"map correlation weight must be a finite number >= 0, got {self.map_correlation_weight}")
        if not (self.still_map_weight >= 0 and math.isfinite(self.still_map_weight)):
            raise BurstError(f"still map weight must be a finite number >= 0, got {self.still_map_weight}")
        if not (self.map_weight >= 0 and math.isfinite(self.map_weight)):
            raise BurstError(f"map weight must be a finite number >= 0, got {self.map_weight}")
        if self.steps < 1 or self.batch < 1:
            raise BurstError(f"steps and batch must be >= 1, got {self.steps}, {self.batch}")


class Pipeline(nn.Module):
    """The nets a stage trains, with one forward per stage."""

    def __init__(self, config: TrainConfig):
        super().__init__()
        self.stage = config.stage
        self.perception = build_perception(PERCEPTION_CONFIGS[config.perception]()) if config.stage in (1, 3) else None
        self.deblur, self.sft = build_deblur(DEBLUR_CONFIGS[config.deblur]()) if config.stage in (2, 3) else (None, None)

    def forward(self, blurred: torch.Tensor, blur_map: torch.Tensor, both_paths: bool = False):
        """The stage's output; stage 3 with ``both_paths``: (perception map, output on it, output on the true map)."""
        if self.stage == 1:
            return self.perception(blurred)
        condition = blur_map if self.stage == 2 else self.perception(blurred)
        out = self.deblur(blurred, self.sft(condition) if self.sft is not None else None)
        if not both_paths:
            return out
        return condition, out, self.deblur(blurred, self.sft(blur_map) if self.sft is not None else None)

    def target(self, blur_map: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
        return blur_map if self.stage == 1 else sharp


def charbonnier(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((x - y) ** 2 + eps * eps).mean()


def map_correlation_loss(predicted: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Mean over the crops of 1 - Pearson r between ``[N, 1, H, W]`` maps; crops whose target is flat (sharp
    stills, map 0) have no pattern to match and are left out (0 when every crop is flat)."""
    p = predicted.flatten(1) - predicted.flatten(1).mean(1, keepdim=True)
    t = target.flatten(1) - target.flatten(1).mean(1, keepdim=True)
    has_pattern = t.norm(dim=1) > eps
    if not bool(has_pattern.any()):
        return predicted.sum() * 0.0
    r = (p * t).sum(1) / (p.norm(dim=1) * t.norm(dim=1) + eps)
    return (1.0 - r[has_pattern]).mean()


def still_map_excess(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over the crops whose ``[N, 1, H, W]`` target is all zero of their map MSE, divided by N: added
    with weight w - 1 to the batch MSE it gives those crops weight w (0 when no crop is flat)."""
    flat = target.flatten(1).amax(1) <= 0
    return (predicted.flatten(1) ** 2).mean(1)[flat].sum() / predicted.shape[0]


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    mse = float(torch.mean((x.clamp(0, 1) - y) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def _setup_distributed() -> torch.device:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device("cpu")


def manifest_hash(data: Path) -> str:
    path = Path(data) / "dataset.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "none"


def _state(pipeline: Pipeline, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Weights and Adam moments as one flat tensor dict (safetensors: no pickle)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in pipeline.state_dict().items()}
    for i, param in enumerate(p for g in optimizer.param_groups for p in g["params"]):
        for key, value in optimizer.state.get(param, {}).items():
            tensors[f"optim.{i}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous().reshape(-1) \
                if key == "step" else value.detach().cpu().contiguous()
    return tensors


def _load_state(pipeline: Pipeline, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    pipeline.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for i, param in enumerate(params):
        moments = {k.split(".", 2)[2]: v for k, v in tensors.items() if k.startswith(f"optim.{i}.")}
        if moments:
            moments["step"] = moments["step"].reshape(())
            optimizer.state[param] = {k: v.to(param.device) for k, v in moments.items()}


def save_weights(path: Path, nets: dict[str, nn.Module | None]) -> None:
    tensors = {f"{name}.{k}": v.detach().cpu().contiguous() for name, net in nets.items() if net is not None
               for k, v in net.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def load_nets(path: Path, nets: dict[str, nn.Module | None]) -> list[str]:
    """Load ``<name>.<param>`` tensors into the given nets; returns the names loaded."""
    tensors = load_file(str(path))
    loaded = []
    for name, net in nets.items():
        if net is None:
            continue
        part = {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")}
        if part:
            net.load_state_dict(part)
            loaded.append(name)
    return loaded


@torch.no_grad()
def validate(pipeline: Pipeline, data: PairDataset, device: torch.device) -> dict[str, float]:
    """Validation figures, per product path as well. Still samples (a sharp photo, label = input, map 0)
    have an infinite input PSNR and no map to correlate with, so they are reported on their own
    (``still_psnr``: output vs the photo; ``still_map_mean``) and kept out of the headline means."""
    pipeline.eval()
    rows: dict[str, list[tuple[float, float]]] = {}
    true_map = []
    for i in range(len(data)):
        blurred, bmap, sharp = (t[None].to(device) for t in data[i])
        path = data.path_of(i)
        out = pipeline(blurred, bmap)
        if pipeline.stage == 1:
            a, b = out.flatten() - out.mean(), bmap.flatten() - bmap.mean()
            pearson = float((a * b).sum() / (a.norm() * b.norm() + 1e-12))
            rows.setdefault(path, []).append((float(torch.mean(torch.abs(out - bmap))), pearson if path != "still"
                                              else float(out.mean())))
        else:
            rows.setdefault(path, []).append((psnr(out, sharp), psnr(blurred, sharp)))
            if pipeline.stage == 3 and path != "still":
                true_map.append(psnr(pipeline(blurred, bmap, True)[2], sharp))
    pipeline.train()
    blurred_rows = [r for path, values in rows.items() if path != "still" for r in values]
    result: dict[str, float] = {}
    if pipeline.stage == 1:
        if blurred_rows:
            result |= {"map_mae": float(np.mean([r[0] for r in blurred_rows])),
                       "map_pearson": float(np.mean([r[1] for r in blurred_rows]))}
        if "still" in rows:
            result["still_map_mean"] = float(np.mean([r[1] for r in rows["still"]]))
        return result
    if blurred_rows:
        result |= {"psnr": float(np.mean([r[0] for r in blurred_rows])),
                   "psnr_input": float(np.mean([r[1] for r in blurred_rows]))}
    for path, values in sorted(rows.items()):
        if path == "still":
            result["still_psnr"] = float(np.mean([r[0] for r in values]))
        elif len(rows) > 1:
            result[f"psnr_{path}"] = float(np.mean([r[0] for r in values]))
            result[f"psnr_input_{path}"] = float(np.mean([r[1] for r in values]))
    if true_map:
        result["psnr_true_map"] = float(np.mean(true_map))
    return result


def train(config: TrainConfig, data: Path, out: Path, init_from: list[Path] | None = None) -> dict:
    """Train one stage into ``out`` (resuming from ``out/checkpoint.*`` when present). Returns the card."""
    config.check()
    device = _setup_distributed()
    world = dist.get_world_size() if dist.is_initialized() else 1
    torch.manual_seed(config.seed)
    out = Path(out)
    train_set = PairDataset(data, "train", config.crop, augment=True)
    val_set = PairDataset(data, "val", config.crop * 2 if config.crop * 2 <= 256 else 256, augment=False)
    if config.stage == 1:
        train_set.keep_paths(config.perception_paths)
        val_set.keep_paths(config.perception_paths)
    val_set.pairs = val_set.pairs[:: max(1, len(val_set.pairs) // config.val_samples)][: config.val_samples]

    pipeline = Pipeline(config).to(device)
    for path in init_from or []:  # stage 3 starts from the stage 1 and stage 2 weights
        load_nets(path, {"perception": pipeline.perception, "deblur": pipeline.deblur, "sft": pipeline.sft})
    optimizer = torch.optim.Adam(pipeline.parameters(), lr=config.lr)
    history: list[dict] = []
    step = 0
    seconds_before = 0.0  # wall time of earlier sessions of this run (resumed from its checkpoint)
    ckpt, ckpt_json = out / "checkpoint.safetensors", out / "checkpoint.json"
    if ckpt.exists() and ckpt_json.exists():
        meta = json.loads(ckpt_json.read_text())
        if meta["config"] != json.loads(json.dumps(asdict(config))):  # tuples come back from JSON as lists
            raise BurstError(f"{ckpt_json}: checkpoint was made with another config; use a new --out or the same options")
        _load_state(pipeline, optimizer, load_file(str(ckpt)))
        step, history = meta["step"], meta["history"]
        seconds_before = float(meta.get("seconds", 0.0))
    model = DistributedDataParallel(pipeline) if world > 1 else pipeline
    loss_fn = nn.functional.mse_loss if config.stage == 1 else charbonnier

    sampler = DistributedSampler(train_set, seed=config.seed) if world > 1 else \
        RandomSampler(train_set, replacement=True, num_samples=10 ** 8, generator=torch.Generator().manual_seed(config.seed + step))
    loader = DataLoader(train_set, batch_size=config.batch, sampler=sampler, num_workers=config.workers,
                        drop_last=True, generator=torch.Generator().manual_seed(config.seed + step))
    is_main = not dist.is_initialized() or dist.get_rank() == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
    progress = tqdm(total=config.steps, initial=step, desc=f"stage {config.stage}", unit="step", disable=not is_main)
    t0 = time.perf_counter()
    epoch = 0
    running = []
    while step < config.steps:
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        for blurred, bmap, sharp in loader:
            blurred, bmap, sharp = blurred.to(device), bmap.to(device), sharp.to(device)
            for group in optimizer.param_groups:  # cosine decay, a function of the step: resumes exactly
                group["lr"] = config.lr_min + 0.5 * (config.lr - config.lr_min) * (1 + math.cos(math.pi * step / config.steps))
            if config.stage == 3 and config.joint_paths:
                predicted, single, burst = model(blurred, bmap, True)
                loss = charbonnier(single, sharp) + charbonnier(burst, sharp) + \
                    config.map_weight * nn.functional.mse_loss(predicted, bmap)
            else:
                output, target = model(blurred, bmap), pipeline.target(bmap, sharp)
                loss = loss_fn(output, target)
                if config.stage == 1 and config.map_correlation_weight:
                    loss = loss + config.map_correlation_weight * map_correlation_loss(output, target)
                if config.stage == 1 and config.still_map_weight != 1.0:
                    loss = loss + (config.still_map_weight - 1.0) * still_map_excess(output, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            running.append(float(loss.detach()))
            progress.update(1)
            progress.set_postfix(loss=f"{np.mean(running[-50:]):.5f}")
            if is_main and (step % config.val_every == 0 or step == config.steps):
                history.append({"step": step, "loss": float(np.mean(running[-config.val_every:])),
                                **validate(pipeline, val_set, device)})
                progress.write(json.dumps(history[-1]))
            if is_main and (step % config.checkpoint_every == 0 or step == config.steps):
                _save_checkpoint(pipeline, optimizer, config, step, history, ckpt, ckpt_json,
                                 seconds_before + time.perf_counter() - t0)
            if step >= config.steps:
                break
        epoch += 1
    progress.close()
    card = {}
    if is_main:
        card = _finish(pipeline, config, data, out, step, history, time.perf_counter() - t0, world, init_from or [],
                       seconds_before)
    if dist.is_initialized():
        dist.barrier()
    return card


def _save_checkpoint(pipeline, optimizer, config, step, history, ckpt: Path, ckpt_json: Path, seconds: float) -> None:
    tmp = ckpt.with_suffix(".tmp")
    save_file(_state(pipeline, optimizer), str(tmp))
    os.replace(tmp, ckpt)
    meta_tmp = ckpt_json.with_suffix(".tmp")
    meta_tmp.write_text(json.dumps({"step": step, "config": asdict(config), "history": history,
                                    "seconds": round(seconds, 1)}, indent=1))
    os.replace(meta_tmp, ckpt_json)


def _hardware() -> dict:
    """What the run ran on, for the card."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"cpu": cpu, "cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "gpu": gpu}


def _finish(pipeline: Pipeline, config: TrainConfig, data: Path, out: Path, step: int, history: list[dict],
            seconds: float, world: int, init_from: list[Path], seconds_before: float) -> dict:
    nets = {"perception": pipeline.perception, "deblur": pipeline.deblur, "sft": pipeline.sft}
    save_weights(out / "weights.safetensors", nets)
    card = {
        "stage": config.stage, "steps": step, "train_config": asdict(config),
        "nets": {"perception": config_json(PERCEPTION_CONFIGS[config.perception]()) if pipeline.perception else None,
                 "deblur": config_json(DEBLUR_CONFIGS[config.deblur]()) if pipeline.deblur else None},
        "data": {"path": str(data), "dataset_json_sha256": manifest_hash(data)},
        "validation": history[-1] if history else None, "history": history,
        "processes": world, "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch": torch.__version__, "seconds_this_run": round(seconds, 1),
        "seconds_total": round(seconds_before + seconds, 1), "hardware": _hardware(),
        # Warm starts: the weights this run began from (a run resumed from its checkpoint lists them too).
        "init_from": [{"path": str(p), "sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()} for p in init_from],
    }
    (out / "card.json").write_text(json.dumps(card, indent=1))
    if history:
        plot_history(history, out / "training.png", config.stage)
    return card
