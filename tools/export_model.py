"""Maintainer script: copy a checkpoint without its optimizer and random-generator state, the small file to ship.

    python tools/export_model.py DIR/run_.../vae_final.pth vaelib/weights/vae_latent2.pth

The copy keeps the weights, both configs, the epoch and the per-epoch metrics, under the names vaelib uses now
(a checkpoint written by vaelib 0.1 is read through the run shell's loader, which renames its keys). This is how
every model in vaelib/weights/ was made; their provenance is vaelib/weights/README.md.
"""

import argparse
from pathlib import Path

from vaelib.runs.storage import load_run_checkpoint, save_checkpoint

KEEP = ("model_state", "model_config", "train_config", "epoch", "metrics", "val_objective", "val_neg_elbo")


def export_model(src, dst) -> Path:
    """Write the shippable part of checkpoint `src` to `dst`; return `dst`."""
    ckpt = load_run_checkpoint(src)
    save_checkpoint({key: ckpt[key] for key in KEEP if key in ckpt}, dst)
    return Path(dst)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="a checkpoint written by vae-train, e.g. a run's vae_final.pth")
    parser.add_argument("dst", help="where to write the copy")
    args = parser.parse_args(argv)
    print(f"wrote {export_model(args.src, args.dst)}")


if __name__ == "__main__":
    main()
