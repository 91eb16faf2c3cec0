"""burstdeblur.export: the heavy stack, one folder per concern - ``data`` (sources, rendering, datasets),
``nets`` (the three networks and their configs), ``training`` (staged training, trained weights + cards),
``evaluation`` (held-out and independent sets, baselines, reports), ``convert`` (ONNX/TFLite export,
quantization, verification, quantcheck); ``weights/`` holds the shipped weights.

It builds on burstdeblur.runtime (one fusion and blur-map implementation for datasets and the phone); the
runtime never imports from here.
"""
