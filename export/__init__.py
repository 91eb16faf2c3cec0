"""burstdeblur.export: datasets, training and exporters (the heavy stack).

It builds on burstdeblur.runtime (one fusion and blur-map implementation for
datasets and the phone); the runtime never imports from here.
"""
