"""Export graphs, ONNX and TFLite conversion, quantization, calibration, manifest, verification against torch, quantcheck."""
