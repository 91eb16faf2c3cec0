"""The `burstdeblur` command: one sub-command per job, each defined next to the code it runs."""
from __future__ import annotations

import argparse
import logging
import sys

from burstdeblur import __version__

DESCRIPTION = ("Turn a burst of frames from a phone into one sharp photo: align and merge the frames, map the "
               "blur that is left, and remove it with small networks; single photos work too. Start with "
               "`burstdeblur demo`.")


def build_parser() -> argparse.ArgumentParser:
    # Every module imported here needs only NumPy/OpenCV/tqdm: `burstdeblur fuse` must work
    # on a board where the training/export stack is not installed. The dataset and train
    # commands import their heavy work only when they run.
    from burstdeblur.commands.deblur_command import add_deblur_parser, add_demo_parser
    from burstdeblur.commands.fuse_command import add_calibrate_parser, add_fuse_parser
    from burstdeblur.commands.dataset_command import add_dataset_parser
    from burstdeblur.commands.evaluate_command import add_evaluate_parser
    from burstdeblur.commands.export_command import add_export_parser, add_quantcheck_parser
    from burstdeblur.commands.train_command import add_train_parser

    from burstdeblur.commands.cli_types import OneLineParser

    parser = OneLineParser(prog="burstdeblur", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"burstdeblur {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_fuse_parser(sub)
    add_calibrate_parser(sub)
    add_deblur_parser(sub)
    add_demo_parser(sub)
    add_dataset_parser(sub)
    add_train_parser(sub)
    add_evaluate_parser(sub)
    add_export_parser(sub)
    add_quantcheck_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from burstdeblur.runtime.errors import BurstError

    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a usage error already printed on one line
            return int(exc.code or 0)
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                            format="burstdeblur: %(levelname)s: %(message)s")
        return args.run(args)
    except (BurstError, OSError) as exc:
        print(f"burstdeblur: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("burstdeblur: error: out of memory; use fewer or smaller frames", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Outputs are staged and removed on the way out (runtime/io/output_set.py): nothing is left behind.
        print("burstdeblur: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
