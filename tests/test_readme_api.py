"""The README's Python snippets run as written, against the public API of burstdeblur.runtime and the shipped
models, in a folder holding what they name (photo.jpg, frames/)."""
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from burstdeblur.runtime.burst.demo_burst import make_demo_burst_and_reference

README = Path(__file__).parents[1] / "README.md"


def _snippets() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return [b for b in blocks if "burstdeblur.runtime" in b]


def test_readme_has_the_api_snippets():
    text = "\n".join(_snippets())
    for name in ("Deblurrer", "InferenceOptions", "load_burst", "process_burst", "FuseOptions", "fuse_and_blur_map"):
        assert name in text, name


@pytest.mark.parametrize("index", range(len(_snippets())))
def test_readme_snippet_runs_as_written(index, tmp_path, capsys):
    pytest.importorskip("ai_edge_litert")
    burst, _ = make_demo_burst_and_reference(n=4, seed=2)
    frames = burst.frames[:, :160, :224]  # [4, 160, 224, 3] uint8 RGB
    (tmp_path / "frames").mkdir()
    for i, frame in enumerate(frames):
        assert cv2.imwrite(str(tmp_path / "frames" / f"{i:02d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(str(tmp_path / "photo.jpg"), cv2.cvtColor(frames[1], cv2.COLOR_RGB2BGR))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        scope: dict = {}
        exec(compile(_snippets()[index], f"README snippet {index}", "exec"), scope)
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out
    assert "(160, 224, 3)" in printed  # the snippet's results have the burst's shape
    for value in scope.values():  # every result it made is a real one, not an empty shell
        if isinstance(value, np.ndarray):
            assert value.size > 0 and np.isfinite(value.astype(np.float64)).all()
