"""A stage-3 result with its perception net taken from a later stage-1 run, as one weights file + card.

    python -m burstdeblur.export.training.compose_weights FULL.safetensors STAGE1.safetensors OUT.safetensors

Why: the perception net only feeds the single-image path's SFT + deblur pair, which stage 2 trained on true
maps; a stage-1 run that predicts maps closer to the true map can replace the perception net of a stage-3
result without retraining the pair (and without stage 3's map term, which trains on every path's maps).
The card is the stage-3 card plus ``perception_from``: the donor file's path, SHA-256, steps and validation.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.training.trained_models import find_card


def compose(full: Path, donor: Path, out: Path) -> dict:
    """Write ``out`` (+ ``out.with_suffix('.json')``): ``full``'s deblur and SFT nets, ``donor``'s perception net."""
    full_card, donor_card = find_card(full), find_card(donor)
    if full_card["stage"] != 3 or donor_card["stage"] != 1:
        raise BurstError(f"{full} must be a stage-3 result and {donor} a stage-1 run "
                         f"(got stages {full_card['stage']} and {donor_card['stage']})")
    kept = {k: v for k, v in load_file(str(full)).items() if not k.startswith("perception.")}
    taken = {k: v for k, v in load_file(str(donor)).items() if k.startswith("perception.")}
    if not taken:
        raise BurstError(f"{donor}: no perception tensors")
    card = json.loads(json.dumps(full_card))
    card["train_config"]["perception"] = donor_card["train_config"]["perception"]
    card["nets"]["perception"] = donor_card["nets"]["perception"]
    card["perception_from"] = {"path": str(donor), "sha256": hashlib.sha256(donor.read_bytes()).hexdigest(),
                               "steps": donor_card["steps"], "train_config": donor_card["train_config"],
                               "validation": donor_card["validation"], "seconds_total": donor_card["seconds_total"],
                               "hardware": donor_card["hardware"], "init_from": donor_card["init_from"],
                               "data": donor_card["data"]}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Both files are written beside their targets and renamed into place: a kill leaves the old pair or
    # temporary files, never a new weights file next to an old card.
    tmp_weights, tmp_card = out.with_name(out.name + ".tmp"), out.with_suffix(".json.tmp")
    save_file({**kept, **taken}, str(tmp_weights))
    tmp_card.write_text(json.dumps(card, indent=1) + "\n")
    os.replace(tmp_weights, out)
    os.replace(tmp_card, out.with_suffix(".json"))
    return card


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print("usage: python -m burstdeblur.export.training.compose_weights FULL STAGE1 OUT", file=sys.stderr)
        return 2
    try:
        compose(*(Path(a) for a in argv))
    except (BurstError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
