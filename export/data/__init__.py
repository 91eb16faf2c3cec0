"""Source photos and videos, camera-shake rendering, datasets in the GoPro layout."""
