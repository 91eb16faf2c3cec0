"""burstdeblur.runtime: the on-device part. NumPy and OpenCV only, no training or conversion frameworks."""
from .blur_calibration import BlurCalibration, calibrate, choose_window
from .blur_map import global_blur, scale_map, to_png16
from .burst_input import Burst, from_array, load_burst
from .burst_pipeline import BurstResult, FuseOptions, process_burst
from .errors import BurstError
from .fusion import Fusion, fuse_and_blur_map
from .registration import RegistrationConfig, register_burst

__all__ = [
    "BlurCalibration", "Burst", "BurstError", "BurstResult", "Fusion", "FuseOptions", "RegistrationConfig",
    "calibrate", "choose_window", "from_array", "fuse_and_blur_map", "global_blur", "load_burst",
    "process_burst", "register_burst", "scale_map", "to_png16",
]
