"""Bounded option types for argparse: every number a user types is checked when it is parsed.

An unchecked ``--threads 100000`` crashes a native thread pool, ``--tile 100000`` allocates
112 GiB, ``--heatmap-max nan`` writes invalid JSON. Each numeric option says its range here
and a value outside it is a one-line usage error (exit 2) before anything runs.
"""
from __future__ import annotations

import argparse
import math
from typing import Callable

MAX_THREADS = 64
MAX_SEED = 2**32 - 1


def int_in(lo: int, hi: int, multiple: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi or value % multiple:
            step = f", a multiple of {multiple}" if multiple > 1 else ""
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}{step}; got {value}")
        return value
    parse.__name__ = "integer"
    return parse


def float_in(lo: float, hi: float, low_open: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value > hi or value < lo or (low_open and value == lo):
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must be a finite number in {bracket}{lo}, {hi}]; got {text}")
        return value
    parse.__name__ = "number"
    return parse


THREADS = int_in(1, MAX_THREADS)
SEED = int_in(0, MAX_SEED)
FRAMES = int_in(2, 256)  # runtime.burst_input.MAX_FRAMES
START = int_in(0, 10**7)
TILE = int_in(16, 2048, multiple=16)


class OneLineParser(argparse.ArgumentParser):
    """argparse prints the whole usage block before an error; one line naming the problem (and where
    help is) is what a user reads, so that is all this parser prints. Exit status stays 2."""

    def error(self, message: str):
        self.exit(2, f"burstdeblur: error: {message} (see {self.prog} --help)\n")
