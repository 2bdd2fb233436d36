"""Run folders: unique names, config.json and the per-epoch metrics log, all written atomically."""

import csv
import json
from datetime import datetime
from pathlib import Path

from vaelib.core.errors import VAEError
from vaelib.core.model import Losses

from .atomic import atomic_write

LOSS_FIELDS = Losses._fields  # objective = recon + beta * KL, neg_elbo = recon + KL
METRIC_FIELDS = ("epoch", *(f"{split}_{name}" for split in ("train", "val") for name in LOSS_FIELDS), "lr", "seconds")


def new_run_dir(checkpoint_dir) -> Path:
    """Create checkpoint_dir/run_YYYYmmdd_HHMMSS; add _2, _3, ... if that name is taken.

    mkdir either creates the folder or fails, so two runs started in the same second never share one.
    """
    root = Path(checkpoint_dir)
    stamp = datetime.now().strftime("run_%Y%m%d_%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = root / (stamp if n == 1 else f"{stamp}_{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as err:
        raise VAEError(
            f"cannot create a run folder in {root}: {err.strerror}; pick a writable --checkpoint-dir"
        ) from None
    raise VAEError(f"too many runs named {stamp} in {root}")


def write_config(config: dict, run_dir) -> None:
    with atomic_write(Path(run_dir) / "config.json", "w") as fh:
        json.dump(config, fh, indent=2)


def write_metrics(rows: list[dict], run_dir) -> None:
    """Rewrite metrics.csv from the full list of epoch rows (so a resumed run never duplicates an epoch)."""
    with atomic_write(Path(run_dir) / "metrics.csv", "w") as fh:
        writer = csv.DictWriter(fh, fieldnames=METRIC_FIELDS)
        writer.writeheader()
        writer.writerows({k: row[k] for k in METRIC_FIELDS} for row in rows)


def read_metrics(run_dir) -> list[dict]:
    """The rows of metrics.csv as dicts of numbers (epoch as int)."""
    with open(Path(run_dir) / "metrics.csv", newline="") as fh:
        return [{k: int(v) if k == "epoch" else float(v) for k, v in row.items()} for row in csv.DictReader(fh)]
