"""The two deblurring paths on exported graphs, tiled, with per-stage timings and the devices that ran them.

    burst path (claim 7):   frames -> alignment + fusion + blur map (runtime) -> SFT -> deblur
    single path (claim 8):  image -> perception -> SFT -> deblur

Both run per tile (runtime/engine/tiling.py): each tile's map goes through the SFT
graph and the deblur graph, so memory stays bounded by the tile size and any
photo size works with static TFLite graphs. The 8-bit image enters the nets as
value / 255; the deblurred output is clamped to [0, 1] here (the graphs leave
it unclamped, see export_graphs.py) and rounded to 8 bits.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from burstdeblur.runtime.engine.backends import Session, open_session
from burstdeblur.runtime.burst.blur_map import scale_map
from burstdeblur.runtime.burst.burst_input import Burst
from burstdeblur.runtime.burst.burst_pipeline import BurstResult, FuseOptions, process_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.pixel_budget import MEMORY, check_frame, check_memory
from burstdeblur.runtime.engine.model_store import ModelStore
from burstdeblur.runtime.engine.tiling import TileLayout, run_tiled

BACKENDS = ("litert", "onnx")


@dataclass(frozen=True)
class InferenceOptions:
    backend: str = "litert"
    precision: str = "int8"  # what a phone runs; fp32 and fp16 (LiteRT) on request
    tile: int = 256
    margin: int | None = None  # px of each tile edge discarded where it borders another tile (tile / 16)
    feather: int | None = None  # px blended between neighbouring tiles (tile / 16)
    threads: int | None = None
    accelerator: str | None = None  # LiteRT delegate name/path or ONNX Runtime provider
    models: str | None = None  # export folder; None = the shipped models

    @staticmethod
    def default() -> "InferenceOptions":
        return InferenceOptions()

    @staticmethod
    def reference() -> "InferenceOptions":
        """ONNX Runtime FP32: the float model, for comparisons."""
        return InferenceOptions(backend="onnx", precision="fp32")

    def layout(self) -> TileLayout:
        return TileLayout(self.tile, self.tile // 16 if self.margin is None else self.margin,
                          self.tile // 16 if self.feather is None else self.feather)

    def check(self) -> None:
        if self.backend not in BACKENDS:
            raise BurstError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        self.layout().check()
        if self.threads is not None and self.threads < 1:
            raise BurstError(f"threads must be >= 1, got {self.threads}")


@dataclass
class DeblurResult:
    deblurred: np.ndarray  # [H, W, 3] uint8
    blur_map: np.ndarray  # [H, W] float32 unit range: the residual map the nets got (burst), predicted (single)
    path: str  # burst | single
    timings_ms: dict[str, float]
    devices: dict[str, str]
    fallbacks: dict[str, str]
    fused: np.ndarray | None = None  # [H, W, 3] uint8, burst path
    burst: BurstResult | None = field(default=None, repr=False)

    def report(self) -> dict:
        return {"path": self.path, "height": int(self.deblurred.shape[0]), "width": int(self.deblurred.shape[1]),
                "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()}, "devices": self.devices,
                "fallbacks": self.fallbacks, "global_blur_unit": float(self.blur_map.mean())}


class Deblurrer:
    """Opens the graphs once (checking files against the manifest) and runs either path."""

    def __init__(self, options: InferenceOptions = InferenceOptions()):
        options.check()
        self.options = options
        self.store = ModelStore(options.models)
        t0 = time.perf_counter()
        tile = options.tile if options.backend == "litert" else None
        if options.backend == "litert" and options.tile not in self.store.tiles("deblur", "tflite", options.precision):
            raise BurstError(f"no TFLite {options.precision} graphs for tile {options.tile}; the models have tiles "
                             f"{self.store.tiles('deblur', 'tflite', options.precision) or 'none'}")
        self.sessions: dict[str, Session] = {
            g: open_session(self.store, g, options.backend, options.precision, tile, options.threads,
                            options.accelerator) for g in ("perception", "sft", "deblur")}
        self.load_ms = (time.perf_counter() - t0) * 1e3

    @property
    def devices(self) -> dict[str, str]:
        return {g: s.device for g, s in self.sessions.items()}

    @property
    def fallbacks(self) -> dict[str, str]:
        return {g: s.fallback for g, s in self.sessions.items() if s.fallback}

    def _tiled(self, image: np.ndarray, blur_map: np.ndarray | None, progress) -> tuple[np.ndarray, np.ndarray, dict]:
        times = {"perception": 0.0, "sft": 0.0, "deblur": 0.0}

        def timed(graph: str, inputs: list[np.ndarray]) -> list[np.ndarray]:
            t = time.perf_counter()
            out = self.sessions[graph].run(inputs)
            times[graph] += (time.perf_counter() - t) * 1e3
            return out

        def run(tiles: list[np.ndarray]) -> list[np.ndarray]:
            x = np.transpose(tiles[0], (2, 0, 1))[None]  # [1, 3, t, t]
            m = np.transpose(tiles[1], (2, 0, 1))[None] if blur_map is not None else timed("perception", [x])[0]
            modulation = timed("sft", [m])
            y = timed("deblur", [x, *modulation])[0]
            return [np.transpose(y[0], (1, 2, 0)), np.transpose(m[0], (1, 2, 0))]

        x = image.astype(np.float32) / np.float32(255.0)
        inputs = [x] if blur_map is None else [x, blur_map[..., None].astype(np.float32)]
        t0 = time.perf_counter()
        out, m = run_tiled(inputs, run, [3, 1], self.options.layout(), progress)
        total = (time.perf_counter() - t0) * 1e3
        if blur_map is not None:
            del times["perception"]  # the burst path has the true map
        times["tiling_overhead"] = total - sum(times.values())
        deblurred = np.rint(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)
        return deblurred, m[..., 0], times

    def single_image(self, image: np.ndarray, progress=None) -> DeblurResult:
        """``[H, W, 3]`` uint8 RGB photo -> deblurred, with the perception net's map."""
        _check_image(image)
        deblurred, predicted, times = self._tiled(image, None, progress)
        return DeblurResult(deblurred, predicted, "single", {"load": self.load_ms, **times}, self.devices,
                            self.fallbacks)

    def burst(self, burst: Burst, fuse: FuseOptions | None = None, progress=None) -> DeblurResult:
        """A burst -> runtime fusion and true blur map -> SFT -> deblur."""
        return self.merged(process_burst(burst, fuse or FuseOptions.default()), progress)

    def merged(self, result: BurstResult, progress=None) -> DeblurResult:
        """A fused burst (``process_burst``'s result) -> its residual map -> SFT -> deblur."""
        fused = result.fused
        if fused.dtype != np.uint8 or fused.ndim != 3 or fused.shape[2] != 3:
            raise BurstError(f"the nets take 8-bit RGB bursts; this one fused to {fused.shape} {fused.dtype}")
        unit = scale_map(result.residual_raw, result.max_value, "unit")
        deblurred, _, times = self._tiled(fused, unit, progress)
        timings = {"load": self.load_ms, **{f"burst_{k}": v for k, v in result.timings_ms.items()}, **times}
        return DeblurResult(deblurred, unit, "burst", timings, self.devices, self.fallbacks, fused, result)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise BurstError(f"expected an [H, W, 3] RGB image, got shape {shape}; convert gray or RGBA photos first")
    if image.dtype != np.uint8:
        raise BurstError(f"expected an 8-bit (uint8) image, got {image.dtype}; the nets were trained on 8-bit data")
    if min(image.shape[:2]) < 8:
        raise BurstError(f"image {image.shape[1]}x{image.shape[0]} is too small (at least 8x8)")
    height, width = image.shape[:2]
    check_frame(width, height, "image")
    check_memory(MEMORY.image(height, width), f"deblurring a {width}x{height} px image")
