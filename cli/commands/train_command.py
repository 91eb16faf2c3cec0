"""`burstdeblur train`: one training stage. Imports torch only when it runs (pip install '.[train]')."""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from burstdeblur.commands.cli_types import SEED, float_in, int_in


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the perception (1), deblur+SFT (2) or all three nets jointly (3)")
    p.add_argument("--stage", type=int, choices=(1, 2, 3), required=True,
                   help="1: perception net on label 1; 2: SFT + deblur on the true map; 3: all three jointly")
    p.add_argument("--data", type=Path, required=True, help="dataset folder from `burstdeblur dataset build`")
    p.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, weights, card, plot)")
    p.add_argument("--config", choices=("default", "tiny"), default="default", help="training + net preset")
    p.add_argument("--perception", default=None, help="perception net config (default, dilated, tiny)")
    p.add_argument("--deblur", default=None, help="deblur net config (default, no-map, multi-level, nafnet-peer, tiny)")
    p.add_argument("--init-from", type=Path, nargs="*", default=None,
                   help="weights.safetensors to start from (stage 3: the stage 1 and 2 results)")
    p.add_argument("--steps", type=int_in(1, 10**8), default=None, help="optimiser steps in all (default: 20000)")
    p.add_argument("--batch", type=int_in(1, 4096), default=None, help="crops per step (default: 8)")
    p.add_argument("--crop", type=int_in(16, 4096), default=None, help="training crop in px (default: 128)")
    p.add_argument("--lr", type=float_in(0.0, 1.0, low_open=True), default=None,
                   help="Adam learning rate at the start of the cosine decay (default: 1e-3)")
    p.add_argument("--val-every", type=int_in(1, 10**8), default=None,
                   help="steps between validations (default: 500)")
    p.add_argument("--map-correlation", dest="map_correlation_weight", type=float_in(0.0, 1e6), default=None,
                   help="stage 1: weight of (1 - Pearson r) per crop next to the map MSE (default: 0)")
    p.add_argument("--still-map-weight", type=float_in(0.0, 1e6), default=None,
                   help="stage 1: weight of the map MSE on sharp stills (target map 0) against the others (default: 1)")
    p.add_argument("--workers", type=int_in(0, 64), default=None, help="data-loader worker processes")
    p.add_argument("--seed", type=SEED, default=None, help="seed of crops and initial weights (default: 0)")
    p.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    try:
        from burstdeblur.export.training.training import TrainConfig, train
    except ImportError as exc:
        from burstdeblur.runtime.errors import BurstError
        raise BurstError(f"training needs the train extra (pip install '.[train]'): {exc}") from exc

    config = TrainConfig.tiny(args.stage) if args.config == "tiny" else TrainConfig.default(args.stage)
    names = ("steps", "batch", "crop", "lr", "val_every", "workers", "seed", "perception", "deblur",
             "map_correlation_weight", "still_map_weight")
    changes = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    config = replace(config, **changes)
    card = train(config, args.data, args.out, args.init_from)
    if card:
        print(f"weights: {args.out / 'weights.safetensors'}, card: {args.out / 'card.json'}; validation: "
              + json.dumps(card["validation"]))
    return 0
