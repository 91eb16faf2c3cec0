"""Image size and layout read from a file's header, before anything is decoded.

A 1 MB PNG can claim 20000 x 20000 pixels; decoding it first and checking the
size afterwards costs gigabytes. These parsers read only the few header bytes
that state width, height, channels and bit depth, so the pixel budget
(runtime/io/pixel_budget.py) refuses such a file up front. The format is taken
from the file's signature, not its name, so a text file or a JPEG named
``.png`` gets a message that says what it really is.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from burstdeblur.runtime.errors import BurstError

SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}
EXTENSION_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}

# PNG colour type -> channels OpenCV decodes it to (palette expands to BGR, gray+alpha to BGRA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 4, 6: 4}


@dataclass(frozen=True)
class ImageHeader:
    format: str  # PNG | JPEG | TIFF
    width: int
    height: int
    channels: int  # as decoded by OpenCV with IMREAD_UNCHANGED
    bits: int  # 8 or 16 per sample

    @property
    def decoded_bytes(self) -> int:
        return self.width * self.height * self.channels * (2 if self.bits > 8 else 1)


def sniff_format(data: bytes) -> str | None:
    for signature, name in SIGNATURES.items():
        if data.startswith(signature):
            return name
    return None


def describe_content(data: bytes) -> str:
    """A few words on what a file that is no image holds, for an error message."""
    head = data[:512]
    if head.startswith(b"BM"):
        return "a BMP file"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF file"
    if head[4:8] == b"ftyp" or head.startswith(b"RIFF"):
        return "a video or audio container"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "unrecognised data"


def read_header(data: bytes, label: str) -> ImageHeader:
    """Parse the header of PNG, JPEG or TIFF bytes; ``label`` names the file in errors."""
    kind = sniff_format(data)
    if kind is None:
        raise BurstError(f"{label}: not a PNG, JPEG or TIFF image (the file holds {describe_content(data)})")
    try:
        return {"PNG": _png, "JPEG": _jpeg, "TIFF": _tiff}[kind](data, label)
    except (struct.error, IndexError):
        raise BurstError(f"{label}: {kind} header is cut short or corrupt") from None


def _png(data: bytes, label: str) -> ImageHeader:
    length, tag = struct.unpack(">I4s", data[8:16])
    if tag != b"IHDR" or length != 13:
        raise BurstError(f"{label}: PNG does not start with an IHDR chunk (corrupt header)")
    width, height, bits, colour = struct.unpack(">IIBB", data[16:26])
    if colour not in _PNG_CHANNELS or bits not in (1, 2, 4, 8, 16):
        raise BurstError(f"{label}: PNG colour type {colour} / bit depth {bits} is not valid PNG")
    return ImageHeader("PNG", width, height, _PNG_CHANNELS[colour], 16 if bits == 16 else 8)


# JPEG start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF = {0xC0 + i for i in range(16)} - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes, label: str) -> ImageHeader:
    pos = 2
    while True:
        if data[pos] != 0xFF:
            raise BurstError(f"{label}: JPEG marker expected at byte {pos} (corrupt header)")
        while data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers
            continue
        if marker in (0xD9, 0xDA):
            raise BurstError(f"{label}: JPEG has no frame header before its image data (corrupt)")
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if marker in _SOF:
            bits, height, width, components = struct.unpack(">BHHB", data[pos + 2:pos + 8])
            if height == 0:
                raise BurstError(f"{label}: JPEG height given after the scan (DNL marker) is not supported")
            if bits not in (8, 12) or components not in (1, 3, 4):
                raise BurstError(f"{label}: JPEG with {components} components of {bits} bits is not supported")
            return ImageHeader("JPEG", width, height, 1 if components == 1 else 3, 8)
        pos += length


_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4)}


def _tiff(data: bytes, label: str) -> ImageHeader:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[offset:offset + 2])
    tags: dict[int, int] = {}
    for i in range(count):
        entry = data[offset + 2 + 12 * i:offset + 14 + 12 * i]
        tag, kind, n = struct.unpack(order + "HHI", entry[:8])
        if kind in _TIFF_TYPES and n >= 1:
            code, size = _TIFF_TYPES[kind]
            value_bytes = entry[8:12] if n * size <= 4 else data[struct.unpack(order + "I", entry[8:12])[0]:][:size]
            (tags[tag],) = struct.unpack(order + code, value_bytes[:size])
    if 256 not in tags or 257 not in tags:
        raise BurstError(f"{label}: TIFF has no image width/length tags (corrupt header)")
    samples, bits = tags.get(277, 1), tags.get(258, 1)
    if bits not in (1, 8, 16) or tags.get(339, 1) not in (1, 2):  # 339 SampleFormat: unsigned or signed int
        raise BurstError(f"{label}: TIFF with {bits}-bit or floating-point samples is not supported; "
                         "use 8- or 16-bit images")
    channels = 1 if samples == 1 else (4 if samples >= 4 else 3)
    return ImageHeader("TIFF", tags[256], tags[257], channels, 16 if bits == 16 else 8)
