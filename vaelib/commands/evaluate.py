"""`vae-evaluate` (or `python -m vaelib.evaluate`): how good is a trained VAE, in numbers (vaelib.core.scorecard).

On MNIST test images: the −ELBO (reconstruction + KL, also in bits per dimension), the tighter importance-weighted
bound (IWAE), and the active latent units. On samples from the prior: the Fréchet distance to the test images in the
feature space of the project's classifier, the entropy of their predicted classes and the classifier's confidence.
"""

import json
import sys
from pathlib import Path

from vaelib.core import settings
from vaelib.core.checkpoints import default_checkpoint, load_model
from vaelib.core.classifier import load_classifier
from vaelib.core.data import DATA_KINDS, as_data_kind, load_mnist
from vaelib.core.device import pick_device
from vaelib.core.measures import ACTIVE_THRESHOLD
from vaelib.core.scorecard import scorecard

from .cli import ArgumentParser, cli_errors, console, explicit_flags, positive

EVALUATION_DEFAULTS = {"test_images": None, "k": 1000, "num_samples": 10_000}  # None: the whole test set
QUICK_EVALUATION = {"test_images": 500, "k": 10, "num_samples": 500}  # quick mode: a smoke test in seconds


def build_parser() -> ArgumentParser:
    quick = QUICK_EVALUATION
    p = ArgumentParser(prog="vae-evaluate", description="Evaluate a trained VAE on the MNIST test set.")
    p.add_argument(
        "--checkpoint",
        help="checkpoint to evaluate (default: checkpoints/best_model/vae_best.pth, else the shipped 2-D model)",
    )
    p.add_argument(
        "--k",
        type=positive(int, zero_ok=True),
        help=f"importance samples per image for the IWAE bound; 0 skips it (default {EVALUATION_DEFAULTS['k']}: "
        f"{EVALUATION_DEFAULTS['k']:,} decoder passes per test image, the slow part: about 8 minutes for all 10,000 "
        "test images on a 2-core CPU, where 1,000 took 50 s; a progress bar in a terminal shows the time left)",
    )
    p.add_argument(
        "--data",
        choices=DATA_KINDS,
        help="score on grey or on (one fixed binarisation of) binary test digits (default: what the model was "
        "trained on, recorded in its checkpoint)",
    )
    p.add_argument(
        "--num_samples",
        type=positive(int),
        help=f"digits drawn from the prior to score samples (default {EVALUATION_DEFAULTS['num_samples']})",
    )
    p.add_argument(
        "--test_images",
        type=positive(int),
        help="score N test images drawn at random, the same ones every time (default: all 10,000)",
    )
    p.add_argument(
        "--batch_size",
        type=positive(int),
        default=50,
        help="test images per IWAE batch; lower it if memory runs out (default 50)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for the z noise and the samples (default 0)")
    p.add_device_and_data()
    p.add_argument("--classifier", help="classifier weights (default: the shipped classifier.pth)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout instead of a table")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {quick['test_images']} test images, k={quick['k']}, {quick['num_samples']} samples; "
        "explicit flags win (also: VAELIB_QUICK=1)",
    )
    return p


def evaluate_checkpoint(
    checkpoint,
    device,
    quick: bool = False,
    data_dir=None,
    classifier=None,
    seed: int = 0,
    batch_size: int = 50,
    data: str | None = None,
    **explicit,
) -> dict:
    """Load a checkpoint, the classifier and MNIST, and score the model.

    The sizes (test_images, k, num_samples): EVALUATION_DEFAULTS, then QUICK_EVALUATION in quick mode, then `explicit`;
    fewer test images than all are a seeded random subset (Digits.subset). The bounds are measured on the data the
    model was trained on (grey, or one fixed binarisation of the test set) unless `data` says otherwise.
    The Fréchet distance of as many real training digits is reported beside the samples' as a scale.
    """
    sizes = {**EVALUATION_DEFAULTS, **(QUICK_EVALUATION if quick else {}), **explicit}
    model, ckpt = load_model(checkpoint, device)
    trained_on = ckpt.get("train_config", {}).get("data", "grey")
    kind = data or trained_on
    if kind != trained_on:
        print(f"warning: {checkpoint} was trained on {trained_on} digits; scoring it on {kind} ones", file=sys.stderr)
    judge = load_classifier(classifier, device)
    mnist = load_mnist(data_dir)
    real, test = mnist.test, as_data_kind(mnist.test, kind)  # binary: one fixed binarisation of the whole test set
    if sizes["test_images"]:
        real, test = real.subset(sizes["test_images"]), test.subset(sizes["test_images"])
    print(
        f"Evaluating {checkpoint} (latent_dim {model.config.latent_dim}) on {device.type}: {len(real):,} {kind} "
        f"test images, IWAE k={sizes['k']}, {sizes['num_samples']:,} samples" + (" (quick mode)" if quick else ""),
        file=sys.stderr,
    )
    reference = mnist.train.images[: sizes["num_samples"]]  # real digits the model may have seen, never test images
    result = scorecard(
        model,
        test.to(device),
        judge,
        k=sizes["k"],
        num_samples=sizes["num_samples"],
        batch_size=batch_size,
        seed=seed,
        reference=reference,
        real=real.images,
    )
    return {"checkpoint": str(Path(checkpoint)), "device": str(device), "seed": seed, "data": kind, **result}


def format_scorecard(result: dict) -> str:
    """The results as a two-column Markdown table (readable in a terminal too)."""
    r = result
    iwae = f"IWAE bound, k={r['iwae_k']}"
    rows = [
        ("test images", f"{r['test_images']:,}" + (f" ({r['data']})" if "data" in r else "")),
        ("−ELBO (nats/image), ± its z noise", f"{r['neg_elbo']:.2f} ± {r['neg_elbo_noise']:.2f}"),
        ("  reconstruction (distortion)", f"{r['recon']:.2f}"),
        ("  KL (rate)", f"{r['kl']:.2f}"),
        ("−ELBO (bits/dim)", f"{r['neg_elbo_bpd']:.4f}"),
        (f"{iwae} (nats/image)", "skipped (k=0)" if r["iwae"] is None else f"{r['iwae']:.2f} ± {r['iwae_se']:.2f}"),
        (f"{iwae} (bits/dim)", "skipped (k=0)" if r["iwae"] is None else f"{r['iwae_bpd']:.4f}"),
        (f"active units (Var[mu] > {ACTIVE_THRESHOLD:g})", f"{r['active_units']} of {r['latent_dim']}"),
        ("KL per dimension, largest first", " ".join(f"{v:.2f}" for v in sorted(r["kl_per_dim"], reverse=True))),
        (f"Fréchet distance, {r['num_samples']:,} samples", f"{r['frechet_distance']:.2f}"),
    ]
    if r.get("frechet_distance_real") is not None:
        rows.append((f"  same for {r['num_samples']:,} real training digits", f"{r['frechet_distance_real']:.2f}"))
    rows += [
        ("class entropy of samples (max ln 10 = 2.30)", f"{r['class_entropy']:.3f}"),
        ("mean classifier confidence", f"{r['mean_confidence']:.3f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'metric':<{width}} | value |", f"|{'-' * (width + 2)}|------:|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    device = pick_device(args.device)
    quick = args.quick or settings.quick_mode()
    result = evaluate_checkpoint(
        checkpoint,
        device,
        quick,
        args.data_dir,
        args.classifier,
        args.seed,
        args.batch_size,
        args.data,
        **explicit_flags(args, ("k", "num_samples", "test_images")),
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_scorecard(result))
        print(f"({result['seconds']:.0f} s)")


entry = console(main)  # what `vae-...` and `python -m` run (cli.console); tests call main()

if __name__ == "__main__":
    entry()
