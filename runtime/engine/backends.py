"""One small interface over LiteRT and ONNX Runtime: open a manifest entry, run it, say what ran it.

A session takes and returns NCHW float32 arrays whatever the file holds;
NHWC layout and int8 quantization (real = scale * (q - zero_point), from the
manifest) are converted here and nowhere else. Before a session is used its
file's sha256 is checked (ModelStore.read) and the tensors the backend reports
are compared with the manifest's names, shapes and dtypes.

Accelerators: LiteRT takes a delegate - "xnnpack" (CPU, the default), "gpu",
"nnapi", "hexagon", or a path to any delegate .so - through load_delegate;
ONNX Runtime takes an execution provider - "cpu", "xnnpack", "nnapi", "qnn",
"coreml". When the delegate or provider is missing or rejects the graph, the
session falls back to the CPU, logs why, and reports it in ``fallback``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.engine.model_store import ModelEntry, ModelStore

log = logging.getLogger("burstdeblur")

LITERT_DELEGATES = {"gpu": "libtensorflowlite_gpu_delegate.so", "nnapi": "libnnapi_delegate.so",
                    "hexagon": "libhexagon_delegate.so"}
ORT_PROVIDERS = {"cpu": "CPUExecutionProvider", "xnnpack": "XnnpackExecutionProvider",
                 "nnapi": "NnapiExecutionProvider", "qnn": "QNNExecutionProvider", "coreml": "CoreMLExecutionProvider"}


def import_litert():
    """(Interpreter, load_delegate, module name): ai-edge-litert, else tflite-runtime.

    TensorFlow's own tf.lite is deliberately not a fallback: the runtime never imports a training
    framework, so it installs and runs alone on a board.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter, load_delegate
        return Interpreter, load_delegate, "ai_edge_litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter, load_delegate
        return Interpreter, load_delegate, "tflite_runtime"
    except ImportError as exc:
        raise BurstError("no LiteRT interpreter: pip install 'burstdeblur[litert]' (ai-edge-litert)") from exc


@dataclass
class Session:
    entry: ModelEntry
    backend: str  # litert | onnx
    device: str  # what actually runs the graph, e.g. "cpu/xnnpack", "gpu delegate", "CPUExecutionProvider"
    fallback: str | None  # why the requested accelerator is not the one running, if it is not
    _run: object

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """NCHW float32 inputs in manifest order -> NCHW float32 outputs in manifest order."""
        if len(inputs) != len(self.entry.inputs):
            raise BurstError(f"{self.entry.file}: takes {len(self.entry.inputs)} inputs, got {len(inputs)}")
        for spec, x in zip(self.entry.inputs, inputs):
            if x.ndim != 4 or x.shape[1] != _channels(spec):
                raise BurstError(f"{self.entry.file}: input {spec['name']} needs [1, {_channels(spec)}, H, W], "
                                 f"got {tuple(x.shape)}")
        return self._run(inputs)


def _channels(spec: dict) -> int:
    return int(spec["shape"][3] if spec["layout"] == "NHWC" else spec["shape"][1])


def _quantize(x: np.ndarray, q: dict) -> np.ndarray:
    # Out-of-range values saturate: that is what an int8 tensor of this scale can hold.
    return np.clip(np.rint(x / np.float32(q["scale"])) + q["zero_point"], -128, 127).astype(np.int8)


def _dequantize(y: np.ndarray, q: dict) -> np.ndarray:
    return (y.astype(np.float32) - np.float32(q["zero_point"])) * np.float32(q["scale"])


def open_litert(store: ModelStore, entry: ModelEntry, threads: int = 2, delegate: str | None = None) -> Session:
    return litert_session(entry, store.read(entry), threads, delegate)


def litert_session(entry: ModelEntry, payload: bytes, threads: int = 2, delegate: str | None = None) -> Session:
    """A session over model bytes already checked (or just made, as by the exporter)."""
    Interpreter, load_delegate, module = import_litert()
    device, fallback, delegates = f"cpu/xnnpack ({module}, {threads} threads)", None, []
    if delegate not in (None, "xnnpack", "cpu"):
        library = LITERT_DELEGATES.get(delegate, delegate)
        with _quiet_destructors():  # around the except too: the half-built delegate dies with the exception
            try:
                delegates = [load_delegate(library)]
                device = f"{delegate} delegate ({library})"
            except Exception as exc:  # noqa: BLE001 - any library that is not a delegate: missing file,
                # not a shared object (OSError), a .so without the delegate entry point (AttributeError), ...
                fallback = f"delegate {delegate!r} could not be loaded ({_one_line(exc)}); running on the CPU"
    try:
        interpreter = _new_interpreter(Interpreter, model_content=payload, num_threads=threads,
                                       experimental_delegates=delegates or None)
    except (ValueError, RuntimeError) as exc:
        if not delegates:
            raise BurstError(f"{entry.file}: LiteRT cannot load this model: {exc}") from exc
        fallback = f"delegate {delegate!r} rejected the graph ({exc}); running on the CPU"
        interpreter = _new_interpreter(Interpreter, model_content=payload, num_threads=threads)
        device = f"cpu/xnnpack ({module}, {threads} threads)"
    if fallback:
        log.warning("%s: %s", entry.file, fallback)
        device = f"cpu/xnnpack ({module}, {threads} threads)"
    runner = interpreter.get_signature_runner()
    _check_litert(entry, runner.get_input_details(), runner.get_output_details())
    session = Session(entry, "litert", device, fallback, None)

    def cpu_runner():
        cpu = _new_interpreter(Interpreter, model_content=payload, num_threads=threads)
        return cpu.get_signature_runner(), f"cpu/xnnpack ({module}, {threads} threads)"

    invoke = DelegateInvoker(session, runner, bool(delegates), cpu_runner)

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        feed = {}
        for spec, x in zip(entry.inputs, inputs):
            x = np.transpose(x, (0, 2, 3, 1))
            if tuple(x.shape) != tuple(spec["shape"]):
                raise BurstError(f"{entry.file}: input {spec['name']} must be {spec['shape']} (NHWC), got {x.shape}")
            feed[spec["tensor"]] = _quantize(x, spec["quantization"]) if spec["quantization"] else \
                np.ascontiguousarray(x, np.float32)
        raw = invoke(feed)
        outs = []
        for spec in entry.outputs:
            y = raw[spec["tensor"]]
            y = _dequantize(y, spec["quantization"]) if spec["quantization"] else y.astype(np.float32)
            outs.append(np.transpose(y, (0, 3, 1, 2)))
        return outs

    session._run = run
    return session


class DelegateInvoker:
    """Runs a signature runner; when a delegate fails at run time, rebuilds the graph on the CPU once,
    records why on the session, and runs it there."""

    def __init__(self, session: Session, runner, delegated: bool, cpu_runner):
        self.session, self.runner, self.delegated, self.cpu_runner = session, runner, delegated, cpu_runner

    def __call__(self, feed: dict) -> dict:
        try:
            return self.runner(**feed)
        except (RuntimeError, ValueError) as exc:
            if not self.delegated:
                raise BurstError(f"{self.session.entry.file}: LiteRT failed to run the graph: {exc}") from exc
            reason = f"the delegate failed at run time ({exc}); running on the CPU"
        log.warning("%s: %s", self.session.entry.file, reason)
        self.runner, self.session.device = self.cpu_runner()
        self.session.fallback, self.delegated = reason, False
        return self.runner(**feed)


@contextlib.contextmanager
def _without_litert_banner():
    """LiteRT's native logger writes ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` to file
    descriptor 2 for every interpreter: a line no user asked for. While an interpreter is built, fd 2 goes to a
    temporary file; afterwards every other line it caught is written back to stderr (so a real native error
    still shows)."""
    banner = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (an embedded interpreter): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().splitlines(keepends=True) if not line.startswith(banner)]
            if kept:
                sys.stderr.flush()
                os.write(2, b"".join(kept))


def _new_interpreter(Interpreter, **kwargs):
    with _without_litert_banner():
        interpreter = Interpreter(**kwargs)
        interpreter.allocate_tensors()
    return interpreter


@contextlib.contextmanager
def _quiet_destructors():
    """LiteRT's Delegate.__del__ raises on the half-built object a failed load leaves behind, which Python
    prints as a stray traceback. The failure itself is reported as the fallback reason, so that report is
    silenced while the delegate loads."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        sys.unraisablehook = hook


def _check_litert(entry: ModelEntry, inputs: dict, outputs: dict) -> None:
    for specs, details, kind in ((entry.inputs, inputs, "input"), (entry.outputs, outputs, "output")):
        if sorted(s["tensor"] for s in specs) != sorted(details):
            raise BurstError(f"{entry.file}: {kind}s {sorted(details)} do not match the manifest's "
                             f"{sorted(s['tensor'] for s in specs)}")
        for spec in specs:
            d = details[spec["tensor"]]
            if [int(v) for v in d["shape"]] != list(spec["shape"]) or np.dtype(d["dtype"]).name != spec["dtype"]:
                raise BurstError(f"{entry.file}: {kind} {spec['tensor']} is {[int(v) for v in d['shape']]} "
                                 f"{np.dtype(d['dtype']).name}, the manifest says {spec['shape']} {spec['dtype']}")


def open_onnx(store: ModelStore, entry: ModelEntry, threads: int = 2, provider: str | None = None) -> Session:
    return onnx_session(entry, store.read(entry), threads, provider)


def onnx_session(entry: ModelEntry, payload: bytes, threads: int = 2, provider: str | None = None) -> Session:
    """A session over model bytes already checked (or just made, as by the exporter)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BurstError("ONNX Runtime is not installed: pip install 'burstdeblur[onnx]'") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    fallback = None
    providers = ["CPUExecutionProvider"]
    if provider not in (None, "cpu"):
        name = ORT_PROVIDERS.get(provider)
        if name is None:
            raise BurstError(f"unknown ONNX Runtime provider {provider!r}; choose from {', '.join(ORT_PROVIDERS)}")
        if name in ort.get_available_providers():
            providers = [name, "CPUExecutionProvider"]
        else:
            fallback = f"{name} is not in this onnxruntime build ({', '.join(ort.get_available_providers())}); " \
                       "running on the CPU"
    try:
        session = ort.InferenceSession(payload, options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types
        if len(providers) == 1:
            raise BurstError(f"{entry.file}: ONNX Runtime cannot load this model: {exc}") from exc
        fallback = f"{providers[0]} rejected the graph ({exc}); running on the CPU"
        session = ort.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
    if fallback:
        log.warning("%s: %s", entry.file, fallback)
    _check_onnx(entry, session.get_inputs(), session.get_outputs())
    used = session.get_providers()[0]
    device = f"{used} ({threads} threads)" if used == "CPUExecutionProvider" else used

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        return session.run(None, {s["tensor"]: np.ascontiguousarray(x, np.float32) for s, x in zip(entry.inputs, inputs)})

    return Session(entry, "onnx", device, fallback, run)


_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int8)": "int8",
              "tensor(uint8)": "uint8"}


def _check_onnx(entry: ModelEntry, inputs: list, outputs: list) -> None:
    """Names, ranks, static sizes and element types the graph declares must be the manifest's."""
    for specs, args, kind in ((entry.inputs, inputs, "input"), (entry.outputs, outputs, "output")):
        if [a.name for a in args] != [s["tensor"] for s in specs]:
            raise BurstError(f"{entry.file}: {kind} names {[str(a.name) for a in args]} do not match the manifest's "
                             f"{[s['tensor'] for s in specs]}")
        for spec, arg in zip(specs, args):
            shape = list(arg.shape)
            dims_ok = len(shape) == len(spec["shape"]) and all(
                (m == d) if isinstance(m, int) else not isinstance(d, int) for m, d in zip(spec["shape"], shape))
            dtype = _ORT_TYPES.get(arg.type, arg.type)
            if not dims_ok or dtype != spec["dtype"]:
                raise BurstError(f"{entry.file}: {kind} {arg.name} is {[d if isinstance(d, int) else str(d) for d in shape]} "
                                 f"{dtype}, the manifest says {spec['shape']} {spec['dtype']}")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def open_session(store: ModelStore, graph: str, backend: str, precision: str, tile: int | None = None,
                 threads: int | None = None, accelerator: str | None = None) -> Session:
    threads = threads or min(4, os.cpu_count() or 1)
    if backend == "litert":
        return open_litert(store, store.find(graph, "tflite", precision, tile), threads, accelerator)
    if backend == "onnx":
        if precision == "fp16":
            raise BurstError("FP16 graphs exist for LiteRT only (weight-only float casting for GPU delegates)")
        return open_onnx(store, store.find(graph, "onnx", precision), threads, accelerator)
    raise BurstError(f"unknown backend {backend!r}; choose litert or onnx")
