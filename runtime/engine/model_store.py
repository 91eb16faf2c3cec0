"""The exported models as the runtime sees them: a folder with manifest.json, each file checked before use.

The shipped set lives in this package (``burstdeblur/runtime/models``); any
folder written by `burstdeblur export` works the same way. A model folder may
come from anywhere, so nothing in it is trusted:
- the manifest is a bounded regular file, checked field by field (types,
  shapes, dtypes, int8 scales > 0) with an error naming the field;
- a model file is a plain name inside the folder (no ``../``, no link out of
  it), a regular file (not a device or FIFO) of the size the manifest states
  (at most MAX_MODEL_BYTES), and its sha256 must match before any backend
  sees it, so a truncated download or a swapped file is refused, never run.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from burstdeblur.runtime.io.bounded_read import read_regular_file
from burstdeblur.runtime.errors import BurstError

FORMATS = {"onnx": "onnx", "litert": "tflite"}  # backend name -> file format
PRECISIONS = ("fp32", "fp16", "int8")
GRAPHS = ("perception", "sft", "deblur", "single")
DTYPES = ("float32", "float16", "int8", "uint8")
MANIFEST_FORMAT = "burstdeblur-models/1"
MAX_MANIFEST_BYTES = 4 * 2**20
MAX_MODEL_BYTES = 256 * 2**20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


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
    bytes: int | None = None

    @staticmethod
    def from_json(data: object, where: str = "entry") -> "ModelEntry":
        """An entry after checking every field; errors name the field, e.g. ``files[3].inputs[0].dtype``."""
        _expect(isinstance(data, dict), where, "must be an object")
        for key in ("file", "sha256", "graph", "format", "precision", "tile", "inputs", "outputs"):
            _expect(key in data, f"{where}.{key}", "is missing")
        file, fmt = data["file"], data["format"]
        _expect(fmt in ("onnx", "tflite"), f"{where}.format", "must be onnx or tflite")
        _expect(isinstance(file, str) and bool(_FILE_NAME.match(file)) and file.endswith("." + fmt),
                f"{where}.file", f"must be a plain .{fmt} file name inside the folder")
        _expect(isinstance(data["sha256"], str) and bool(_SHA256.match(data["sha256"])), f"{where}.sha256",
                "must be 64 lowercase hex digits")
        _expect(data["graph"] in GRAPHS, f"{where}.graph", f"must be one of {', '.join(GRAPHS)}")
        _expect(data["precision"] in PRECISIONS, f"{where}.precision", f"must be one of {', '.join(PRECISIONS)}")
        tile = data["tile"]
        if fmt == "onnx":
            _expect(tile == "dynamic", f"{where}.tile", "must be \"dynamic\" for ONNX")
        else:
            _expect(_is_int(tile) and 16 <= tile <= 4096 and tile % 16 == 0, f"{where}.tile",
                    "must be a multiple of 16 in 16..4096")
        size = data.get("bytes")
        _expect(size is None or (_is_int(size) and 0 < size <= MAX_MODEL_BYTES), f"{where}.bytes",
                f"must be a size in bytes up to {MAX_MODEL_BYTES}")
        tensors = []
        for kind in ("inputs", "outputs"):
            specs = data[kind]
            _expect(isinstance(specs, list) and 1 <= len(specs) <= 8, f"{where}.{kind}", "must be a list of 1-8 tensors")
            tensors.append(tuple(_tensor(spec, f"{where}.{kind}[{i}]", fmt) for i, spec in enumerate(specs)))
        return ModelEntry(file, data["sha256"], data["graph"], fmt, data["precision"], tile, tensors[0], tensors[1],
                          size)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expect(ok: bool, field: str, problem: str) -> None:
    if not ok:
        raise BurstError(f"manifest field {field} {problem}")


def _tensor(spec: object, where: str, fmt: str) -> dict:
    _expect(isinstance(spec, dict), where, "must be an object")
    for key in ("name", "tensor", "shape", "layout", "dtype"):
        _expect(key in spec, f"{where}.{key}", "is missing")
    for key in ("name", "tensor"):
        _expect(isinstance(spec[key], str) and 0 < len(spec[key]) <= 128, f"{where}.{key}", "must be a short string")
    shape = spec["shape"]
    _expect(isinstance(shape, list) and len(shape) == 4, f"{where}.shape", "must be a list of 4 dimensions")
    for d, dim in enumerate(shape):
        static = _is_int(dim) and 1 <= dim <= 65536
        _expect(static or (fmt == "onnx" and isinstance(dim, str) and dim != ""), f"{where}.shape[{d}]",
                "must be a positive size" + (" or a symbolic name" if fmt == "onnx" else ""))
    _expect(spec["layout"] in ("NCHW", "NHWC"), f"{where}.layout", "must be NCHW or NHWC")
    channels = shape[3] if spec["layout"] == "NHWC" else shape[1]
    _expect(_is_int(channels), f"{where}.shape", "must give the channel count as a number")
    _expect(spec["dtype"] in DTYPES, f"{where}.dtype", f"must be one of {', '.join(DTYPES)}")
    _expect("quantization" in spec, f"{where}.quantization", "is missing (null for float tensors)")
    q = spec["quantization"]
    if spec["dtype"] in ("int8", "uint8") and fmt == "tflite":
        _expect(isinstance(q, dict), f"{where}.quantization", "must give scale and zero_point for an int8 tensor")
    if q is not None:
        _expect(isinstance(q, dict) and "scale" in q and "zero_point" in q, f"{where}.quantization",
                "must be null or {scale, zero_point}")
        scale, zero = q["scale"], q["zero_point"]
        _expect(isinstance(scale, (int, float)) and not isinstance(scale, bool) and math.isfinite(scale)
                and 1e-12 < scale < 1e6, f"{where}.quantization.scale", f"must be a finite number > 0, got {scale!r}")
        _expect(_is_int(zero) and -128 <= zero <= 255, f"{where}.quantization.zero_point",
                f"must be an integer in -128..255, got {zero!r}")
    return spec


def shipped_models_dir() -> Path:
    return Path(str(resources.files("burstdeblur.runtime") / "models"))


class ModelStore:
    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else shipped_models_dir()
        if not self.folder.is_dir():
            raise BurstError(f"{self.folder}: model folder does not exist or is not a folder")
        path = self.folder / "manifest.json"
        if not os.path.lexists(path):
            raise BurstError(f"{self.folder}: no manifest.json; point --models at a folder from `burstdeblur export`")
        payload = read_regular_file(path, MAX_MANIFEST_BYTES, "manifest")
        try:
            self.manifest = json.loads(payload)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
            raise BurstError(f"{path}: not valid JSON ({type(exc).__name__}: {str(exc)[:80]})") from None
        try:
            _expect(isinstance(self.manifest, dict), "(top level)", "must be an object")
            _expect(self.manifest.get("format") == MANIFEST_FORMAT, "format", f"must be {MANIFEST_FORMAT!r}")
            files = self.manifest.get("files")
            _expect(isinstance(files, list) and 0 < len(files) <= 1000, "files", "must be a list of model entries")
            self.entries = [ModelEntry.from_json(e, f"files[{i}]") for i, e in enumerate(files)]
        except BurstError as exc:
            raise BurstError(f"{path}: {exc}") from None

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
        """The file's bytes, after checking where it is, what it is, its size and its sha256."""
        path = self.folder / entry.file
        if not os.path.lexists(path):
            raise BurstError(f"{path}: model file listed in the manifest is missing")
        if not _is_within(path.resolve(), self.folder.resolve()):
            raise BurstError(f"{path}: model file links outside the model folder; refused")
        payload = read_regular_file(path, entry.bytes or MAX_MODEL_BYTES, "model file")
        if entry.bytes is not None and len(payload) != entry.bytes:
            raise BurstError(f"{path}: {len(payload)} bytes, the manifest says {entry.bytes}; the file is "
                             "truncated or was replaced - re-export or reinstall")
        digest = hashlib.sha256(payload).hexdigest()
        if digest != entry.sha256:
            raise BurstError(f"{path}: sha256 {digest[:16]}... does not match the manifest ({entry.sha256[:16]}...); "
                             "the file is corrupt or was replaced - re-export or reinstall")
        return payload


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents
