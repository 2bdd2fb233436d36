"""`vae-evaluate` (or `python -m vaelib.evaluate`): how good is a trained VAE, in numbers.

On the 10,000 MNIST test images: the -ELBO (reconstruction + KL, also in bits per dimension), the
tighter importance-weighted bound (IWAE), and the active latent units. On samples from the prior:
the Fréchet distance to the test images in the feature space of the project's classifier, the
entropy of their predicted classes and the classifier's mean confidence.
"""

import copy
import json
import sys
import time
from pathlib import Path

import torch

from . import metrics, settings
from .checkpoint import default_checkpoint, load_model
from .classifier import features, load_classifier, predict_proba
from .data import Split, load_mnist
from .device import pick_device
from .errors import ArgumentParser, cli_errors, positive
from .latent import encode_means

QUICK = {"test_images": 500, "k": 10, "num_samples": 500}  # quick mode: a smoke test in seconds


@torch.no_grad()
def sample_images(model, n: int, seed: int, batch_size: int = 1000) -> torch.Tensor:
    """n digits from the prior, (n, 1, 28, 28) on the CPU; the same seed gives the same digits on every device."""
    generator = torch.Generator().manual_seed(seed)
    return torch.cat([model.sample(min(batch_size, n - i), generator).cpu() for i in range(0, n, batch_size)])


def evaluate(model, test: Split, classifier, k: int = 1000, num_samples: int = 10_000, batch_size: int = 50, seed: int = 0, progress: bool = True, reference=None) -> dict:
    """Every number `vae-evaluate` reports, as a flat dict (nats per image unless the key says otherwise).

    `test` must be on the model's device; `classifier` may be on any device. `reference`: optional real
    images (N, 1, 28, 28) not in `test`, whose Fréchet distance to the test images shows the scale a
    perfect generator would reach with N samples.
    """
    start = time.perf_counter()
    model = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)  # a copy: ~1.5x faster transposed convs on CPU
    elbo = metrics.estimate_elbo(model, test, seed=seed)
    iwae = metrics.iwae_bound(model, test, k=k, batch_size=batch_size, seed=seed, progress=progress)
    mu = encode_means(model, test)
    samples = sample_images(model, num_samples, seed)
    probs = predict_proba(classifier, samples)
    test_features = features(classifier, test.images)
    fd = metrics.frechet_distance(features(classifier, samples), test_features)
    fd_real = None if reference is None else metrics.frechet_distance(features(classifier, reference), test_features)
    return {
        "test_images": len(test),
        "latent_dim": model.config.latent_dim,
        "neg_elbo": elbo["loss"],
        "recon": elbo["recon"],
        "kl": elbo["kl"],
        "neg_elbo_bpd": metrics.bits_per_dim(elbo["loss"]),
        "iwae_k": k,
        "iwae": iwae,
        "iwae_bpd": metrics.bits_per_dim(iwae),
        "active_units": metrics.active_units(mu),
        "num_samples": num_samples,
        "frechet_distance": fd,
        "frechet_distance_real": fd_real,
        "class_entropy": metrics.class_entropy(probs),
        "mean_confidence": metrics.mean_confidence(probs),
        "seconds": time.perf_counter() - start,
    }


def format_table(result: dict) -> str:
    """The results as a two-column Markdown table (readable in a terminal too)."""
    r = result
    rows = [
        ("test images", f"{r['test_images']:,}"),
        ("−ELBO (nats/image)", f"{r['neg_elbo']:.2f}"),
        ("  reconstruction", f"{r['recon']:.2f}"),
        ("  KL", f"{r['kl']:.2f}"),
        ("−ELBO (bits/dim)", f"{r['neg_elbo_bpd']:.4f}"),
        (f"IWAE bound, k={r['iwae_k']} (nats/image)", f"{r['iwae']:.2f}"),
        (f"IWAE bound, k={r['iwae_k']} (bits/dim)", f"{r['iwae_bpd']:.4f}"),
        ("active units (Var[mu] > 0.01)", f"{r['active_units']} of {r['latent_dim']}"),
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


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="vae-evaluate", description="Evaluate a trained VAE on the MNIST test set.")
    p.add_argument("--checkpoint", help="checkpoint to evaluate (default: checkpoints/best_model/vae_best.pth if present, else the shipped pretrained model)")
    p.add_argument("--k", type=positive(int), default=1000, help="importance samples per image for the IWAE bound (default 1000)")
    p.add_argument("--num-samples", type=positive(int), default=10_000, help="digits drawn from the prior for the sample-quality scores (default 10000)")
    p.add_argument("--batch-size", type=positive(int), default=50, help="test images per IWAE batch; lower it if memory runs out (default 50)")
    p.add_argument("--seed", type=int, default=0, help="seed for the z noise and the samples (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--data-dir", help="MNIST root, holding MNIST/raw/ (default: $VAELIB_DATA_DIR or ./data)")
    p.add_argument("--classifier", help="classifier weights (default: checkpoints/pretrained/classifier.pth)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout instead of a table")
    p.add_argument("--quick", action="store_true", help=f"smoke test: {QUICK['test_images']} test images, k <= {QUICK['k']}, <= {QUICK['num_samples']} samples (also: VAELIB_QUICK=1)")
    return p


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    device = pick_device(args.device)
    model, _ = load_model(checkpoint, device)
    classifier = load_classifier(args.classifier, device)
    data = load_mnist(args.data_dir)
    test, k, num_samples = data.test, args.k, args.num_samples
    if args.quick or settings.quick_mode():
        test = test.head(QUICK["test_images"])
        k, num_samples = min(k, QUICK["k"]), min(num_samples, QUICK["num_samples"])
    reference = data.train.images[:num_samples]  # real digits the model may have seen, never test images
    print(f"Evaluating {checkpoint} (latent_dim {model.config.latent_dim}) on {device.type}: "
          f"{len(test):,} test images, IWAE k={k}, {num_samples:,} samples", file=sys.stderr)
    result = evaluate(model, test.to(device), classifier, k=k, num_samples=num_samples, batch_size=args.batch_size, seed=args.seed, reference=reference)
    result = {"checkpoint": str(checkpoint), "device": str(device), "seed": args.seed, **result}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
        print(f"({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
