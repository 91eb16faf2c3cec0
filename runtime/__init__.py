"""burstdeblur.runtime: the on-device part - NumPy, OpenCV and one inference backend (LiteRT or ONNX Runtime,
imported only when a model runs); never a training or conversion framework.

Burst maths: ``load_burst``/``from_array`` -> ``Burst`` (frames ``[n, H, W, C]`` uint8/uint16/float),
``process_burst(burst, FuseOptions)`` -> ``BurstResult`` (``fused`` ``[H, W, C]``, ``blur_raw``/``blur``
``[H, W]`` float32 blur-degree map, ``residual_raw`` ``[H, W]`` the map the nets get), ``fuse_and_blur_map``
(the unaligned patent fusion). Networks: ``Deblurrer(InferenceOptions)`` with ``single_image(rgb)`` and
``burst(burst)`` -> ``DeblurResult`` (``deblurred`` ``[H, W, 3]`` uint8, ``blur_map`` ``[H, W]`` float32).
"""
from burstdeblur.runtime.burst.blur_calibration import BlurCalibration, calibrate, choose_window
from burstdeblur.runtime.burst.blur_map import global_blur, scale_map, to_png16
from burstdeblur.runtime.burst.burst_input import Burst, from_array, load_burst
from burstdeblur.runtime.burst.burst_pipeline import BurstResult, FuseOptions, process_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import Fusion, fuse_and_blur_map
from burstdeblur.runtime.engine.inference import DeblurResult, Deblurrer, InferenceOptions
from burstdeblur.runtime.burst.registration import RegistrationConfig, register_burst

__all__ = [
    "BlurCalibration", "Burst", "BurstError", "BurstResult", "DeblurResult", "Deblurrer", "Fusion", "FuseOptions",
    "InferenceOptions", "RegistrationConfig",
    "calibrate", "choose_window", "from_array", "fuse_and_blur_map", "global_blur", "load_burst",
    "process_burst", "register_burst", "scale_map", "to_png16",
]
