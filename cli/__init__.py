"""burstdeblur: burst fusion, blur-degree maps and blur-map-guided deblurring for phones.

Subpackages: ``burstdeblur.runtime`` (on-device: burst maths, inference engine, files and limits),
``burstdeblur.export`` (data, nets, training, evaluation, conversion) and ``burstdeblur.commands`` (the
command front ends, which use the other two and are used by neither).
"""
__version__ = "0.1.0"
