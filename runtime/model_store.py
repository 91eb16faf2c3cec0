"""The exported models as the runtime sees them: a folder with manifest.json, each file checked before use.

The shipped set lives in this package (``burstdeblur/runtime/models``); any
folder written by `burstdeblur export` works the same way. A file is only
handed to a backend after its sha256 matches the manifest, so a truncated
download or a swapped file is refused with the file's name, never run.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import BurstError

FORMATS = {"onnx": "onnx", "litert": "tflite"}  # backend name -> file format
PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class ModelEntry:
    file: str
    sha256: str
    graph: str
    format: str  # onnx | tflite
    precision: str
    tile: int | str  # px, or "dynamic" (ONNX)
    inputs: tuple[dict, ...]
    outputs: tuple[dict, ...]

    @staticmethod
    def from_json(data: dict) -> "ModelEntry":
        return ModelEntry(data["file"], data["sha256"], data["graph"], data["format"], data["precision"],
                          data["tile"], tuple(data["inputs"]), tuple(data["outputs"]))


def shipped_models_dir() -> Path:
    return Path(str(resources.files("burstdeblur.runtime") / "models"))


class ModelStore:
    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else shipped_models_dir()
        path = self.folder / "manifest.json"
        if not path.exists():
            raise BurstError(f"{self.folder}: no manifest.json; point --models at a folder from `burstdeblur export`")
        try:
            self.manifest = json.loads(path.read_text())
            self.entries = [ModelEntry.from_json(e) for e in self.manifest["files"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise BurstError(f"{path}: not a burstdeblur model manifest ({exc})") from exc

    def tiles(self, graph: str, fmt: str, precision: str) -> list[int]:
        return sorted(e.tile for e in self.entries if (e.graph, e.format, e.precision) == (graph, fmt, precision)
                      and e.tile != "dynamic")

    def find(self, graph: str, fmt: str, precision: str, tile: int | None = None) -> ModelEntry:
        """The entry for a graph; ``tile`` is required for TFLite (static shapes) and ignored for ONNX."""
        if precision not in PRECISIONS:
            raise BurstError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        matches = [e for e in self.entries if (e.graph, e.format, e.precision) == (graph, fmt, precision)
                   and (fmt == "onnx" or e.tile == tile)]
        if not matches:
            have = sorted({f"{e.format}/{e.precision}" + (f"/{e.tile}" if e.format == "tflite" else "")
                           for e in self.entries if e.graph == graph})
            want = f"{fmt}/{precision}" + (f"/{tile}" if fmt == "tflite" else "")
            raise BurstError(f"{self.folder}: no {graph} model {want}; available: {', '.join(have) or 'none'}")
        return matches[0]

    def read(self, entry: ModelEntry) -> bytes:
        """The file's bytes, after checking them against the manifest's sha256."""
        path = self.folder / entry.file
        if not path.exists():
            raise BurstError(f"{path}: model file listed in the manifest is missing")
        payload = path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        if digest != entry.sha256:
            raise BurstError(f"{path}: sha256 {digest[:16]}... does not match the manifest ({entry.sha256[:16]}...); "
                             "the file is corrupt or was replaced - re-export or reinstall")
        return payload
