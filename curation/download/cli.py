"""``wwclip-download`` / ``python -m curation.download`` / ``spark-submit jobs/download.py``."""

from __future__ import annotations

import os
import sys

from curation.pipeline.config import ConfigError
from curation.download.config import build_parser, config_from_args
from curation.download.lifecycle import GRACE_SECONDS, Interrupted, run_interruptibly
from curation.download.stage import format_summary, run_download
from curation.layout import LOCK_FILE, table_path
from curation.spark.fs import FileSystemError
from curation.spark.tables import TableError

INCOMPLETE_EXIT_CODE = 3
INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, as shells report a Ctrl-C


def interrupted_message(output: str, released: bool) -> str:
    """What an interrupted run tells the user about its lock and how to go on."""
    lock = table_path(output, LOCK_FILE)
    if released:
        return (f"interrupted: running Spark jobs cancelled, {lock} released. Complete shards are kept: "
                "re-run the same command to resume.")
    return (f"interrupted: the run did not stop within {GRACE_SECONDS:.0f} s, so {lock} may remain. It names this "
            f"process (pid {os.getpid()}, about to exit): the next run on this host takes over a lock whose process "
            f"is gone; from another host, delete {lock} once no run uses the output. Re-run the same command to "
            "resume.")


def _lock_exists(spark, output: str) -> bool:
    from curation.spark.fs import exists

    try:
        return exists(spark, table_path(output, LOCK_FILE))
    except Exception:  # noqa: BLE001 - cannot tell: say it may remain
        return True


def main(argv: list[str] | None = None) -> int:
    """``wwclip-download``. Exit status: 0 complete, 3 shards missing (re-run to resume), 2 bad config,
    130 interrupted (Ctrl-C or SIGTERM; the lock is released, or the message says what to do)."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from curation.spark.session import configure_logging, get_spark

    configure_logging(args.log_level)

    try:
        cfg = config_from_args(args)
        spark = get_spark("wwclip-download", cfg.master, cfg.spark_conf, log_level=cfg.log_level)
        section = run_interruptibly(spark, lambda cancel: run_download(spark, cfg, cancel))
    except (ConfigError, TableError, FileSystemError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        released = getattr(exc, "released", False) and not _lock_exists(spark, cfg.output)
        print(interrupted_message(cfg.output, released), file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    except KeyboardInterrupt:  # before the run started (Spark starting): nothing to release
        print("interrupted before the download started; nothing was written", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    if not cfg.quiet:
        print(format_summary(section))
    return 0 if section["complete"] else INCOMPLETE_EXIT_CODE


def main_download() -> None:
    """Console script ``wwclip-download``."""
    sys.exit(main())
