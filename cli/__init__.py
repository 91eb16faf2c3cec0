"""burstdeblur: burst fusion, blur-degree maps and blur-map-guided deblurring for phones.

Subpackages: ``burstdeblur.runtime`` (on-device, NumPy + OpenCV) and
``burstdeblur.export`` (datasets, training, exporters).
"""
__version__ = "0.1.0"
