"""``python -m training <command>``: ``plan`` (``training.coverage``: an epoch's plan per rank and
worker, and its coverage of the epoch's sample) or ``train`` (``training.launch``, which also runs
as ``python -m training.launch`` and under ``torchrun``)."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {"plan": "training.coverage", "train": "training.launch"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m training {{{','.join(COMMANDS)}}} [options]   (--help after a command)",
              file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return int(importlib.import_module(COMMANDS[argv[0]]).main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
