"""Progress of a training run: throughput over a logging window, and rank 0's log lines, CSV and TensorBoard."""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from dataclasses import dataclass, field

log = logging.getLogger("training")


@dataclass
class Meter:
    """Loss, throughput and data-wait share over the steps since the last log line (every rank)."""

    global_batch: int
    start: float = field(default_factory=time.time)
    t: float = field(default_factory=time.time)
    steps: int = 0
    wait: float = 0.0
    loss: float = 0.0
    last_loss: float = math.nan
    rates: list[float] = field(default_factory=list)

    def add(self, loss: float) -> None:
        self.steps += 1
        self.loss += loss
        self.last_loss = loss

    def window(self) -> dict:
        """The window's numbers (for ``RunLog.write``); starts the next window."""
        elapsed = time.time() - self.t
        rate = self.steps * self.global_batch / max(elapsed, 1e-9)
        self.rates.append(rate)
        row = {"loss": self.loss / self.steps, "samples_per_s": rate, "data_wait_frac": self.wait / max(elapsed, 1e-9),
               "elapsed_s": round(time.time() - self.start, 2)}
        self.t, self.steps, self.wait, self.loss = time.time(), 0, 0.0, 0.0
        return row

    def mean_rate(self) -> float:
        """Samples/s averaged over the log windows, the first (warm-up) one left out when there are others."""
        if len(self.rates) > 1:
            return sum(self.rates[1:]) / len(self.rates[1:])
        return self.rates[0] if self.rates else math.nan


class RunLog:
    """Rank-0 progress: log lines, ``log.csv`` (W&B-style flat metrics), optional TensorBoard."""

    FIELDS = ("step", "epoch", "loss", "lr", "logit_scale", "samples_per_s", "data_wait_frac",
              "samples_seen", "bad_images", "elapsed_s")

    def __init__(self, output_dir: str, enabled: bool, csv_log: bool = True, tensorboard: bool = False):
        self.enabled = enabled
        self.csv = None
        self.tb = None
        if not enabled:
            return
        if csv_log:
            path = os.path.join(output_dir, "log.csv")
            new = not os.path.exists(path)
            self.csv_file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115 - open for the run
            self.csv = csv.DictWriter(self.csv_file, fieldnames=self.FIELDS)
            if new:
                self.csv.writeheader()
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(os.path.join(output_dir, "tensorboard"))
            except ImportError:
                log.warning("TensorBoard requested but the 'tensorboard' package is not installed; CSV only")

    def write(self, row: dict) -> None:
        if not self.enabled:
            return
        log.info("step %d epoch %d loss %.4f lr %.2e samples/s %.1f data-wait %.0f%% bad-images %d",
                 row["step"], row["epoch"], row["loss"], row["lr"], row["samples_per_s"],
                 100 * row["data_wait_frac"], row["bad_images"])
        if self.csv is not None:
            self.csv.writerow(row)
            self.csv_file.flush()
        if self.tb is not None:
            for k in ("loss", "lr", "logit_scale", "samples_per_s", "data_wait_frac"):
                self.tb.add_scalar(f"train/{k}", row[k], row["step"])

    def close(self) -> None:
        if self.csv is not None:
            self.csv_file.close()
        if self.tb is not None:
            self.tb.close()
