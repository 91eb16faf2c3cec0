"""What native decoders print while they work, caught so it can become an error.

libjpeg decodes a JPEG with a hole in its data into a partly grey picture and
only prints "Corrupt JPEG data: ..." to the process's stderr; FFmpeg does the
same for a video cut mid-frame ("overread"). OpenCV returns success in both
cases. Redirecting file descriptor 2 around the call is the one way to see
those messages from Python, so a damaged file is refused instead of fused.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from typing import Iterator

_lock = threading.Lock()  # fd 2 is process-wide: one capture at a time


class Captured:
    text: str = ""

    @property
    def lines(self) -> list[str]:
        # "[mjpeg @ 0x55b6...] overread 8" -> "mjpeg: overread 8": the address differs on every run
        return [re.sub(r"^\[(\w+) @ 0x[0-9a-fA-F]+\]\s*", r"\1: ", line.strip())
                for line in self.text.splitlines() if line.strip()]


@contextlib.contextmanager
def native_stderr() -> Iterator[Captured]:
    """Collect everything written to fd 2 inside the block (and keep it off the terminal)."""
    captured = Captured()
    with _lock, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.text = sink.read(65536).decode("utf-8", errors="replace")
