"""How the validation −ELBO falls with training: `make run`'s command, the original defaults, and the shipped models.

    VAELIB_DATA_DIR=... python benchmarks/learning_curves.py     # writes benchmarks/results/learning_curves.json

Runs two commands as a learner types them, each into a scratch checkpoint folder (so your own best model is left
alone): `vae-train --recipe fast --epochs 10` (what `make run` trains) and `vae-train --epochs 10` (the original
defaults, whose design target is 500 epochs). Their curves are the validation −ELBO of each epoch in the run's
metrics.csv, and the final model is scored on the 10,000 test images (vaelib.estimate_elbo). The shipped 2-D and
16-D models' curves are read from the metrics stored in their checkpoints (vaelib/weights/README.md has the
commands that trained them). `--skip-training` records only those.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine
import torch

from vaelib import estimate_elbo, load_mnist, load_model, pretrained_path
from vaelib.runs.folder import read_metrics

ROOT = machine.RESULTS.parent.parent
RUNS = {
    "fast_10": ["vae-train", "--recipe", "fast", "--epochs", "10"],
    "original_10": ["vae-train", "--epochs", "10"],
}


def curve(rows: list[dict]) -> list[dict]:
    """Epoch, validation and training −ELBO of each metrics row."""
    return [
        {"epoch": r["epoch"], "val_neg_elbo": r["val_neg_elbo"], "train_neg_elbo": r["train_neg_elbo"]} for r in rows
    ]


def train(name: str, mnist, data_dir) -> dict:
    """One vae-train command in a scratch checkpoint folder: its curve, wall time and test −ELBO."""
    with tempfile.TemporaryDirectory() as scratch:
        flags = ["--checkpoint-dir", scratch] + (["--data-dir", data_dir] if data_dir else [])
        script = Path(sys.executable).parent / RUNS[name][0]  # the command installed beside this interpreter
        load = os.getloadavg()[0]  # wall time on a shared machine depends on it
        start = time.perf_counter()
        subprocess.run([str(script), *RUNS[name][1:], *flags], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        (run_dir,) = Path(scratch).glob("run_*")
        model = load_model(run_dir / "vae_final.pth")[0]
        rows = read_metrics(run_dir)
    return {
        "command": " ".join(RUNS[name]),
        "wall_seconds": seconds,
        "load_average_1min": load,
        "curve": curve(rows),
        "test": estimate_elbo(model, mnist.test),
    }


def shipped(latent_dim: int) -> dict:
    """A shipped model's stored curve and training settings."""
    path = pretrained_path(latent_dim)
    _, ckpt = load_model(path)
    return {
        "checkpoint": f"vaelib/weights/{path.name}",
        "train_config": ckpt["train_config"],
        "curve": curve(ckpt["metrics"]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip-training", action="store_true", help="only read the shipped models' stored curves")
    p.add_argument("--data-dir")
    p.add_argument("--output", default=str(machine.RESULTS / "learning_curves.json"))
    args = p.parse_args()
    result = {"machine": machine.describe(torch.device("cpu")), "runs": {}, "shipped": {}}
    if not args.skip_training:
        mnist = load_mnist(args.data_dir)
        for name in RUNS:
            r = result["runs"][name] = train(name, mnist, args.data_dir)
            print(
                f"{r['command']}: val −ELBO {r['curve'][-1]['val_neg_elbo']:.1f} after {r['curve'][-1]['epoch']} "
                f"epochs, test {r['test']['neg_elbo']:.1f} ({r['wall_seconds']:.0f} s)",
                flush=True,
            )
    for latent_dim in (2, 16):
        s = result["shipped"][f"latent{latent_dim}"] = shipped(latent_dim)
        print(f"{s['checkpoint']}: val −ELBO {s['curve'][-1]['val_neg_elbo']:.1f} after {s['curve'][-1]['epoch']}")
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
