"""Files and limits: image headers and decoding with native messages turned into errors, the pixel and memory budget, outputs published as a whole folder, heatmaps, quality metrics."""
