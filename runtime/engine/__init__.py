"""The inference engine: exported models from a checked manifest, LiteRT / ONNX Runtime sessions with delegates and CPU fallback, tiling, the burst and single-image paths."""
