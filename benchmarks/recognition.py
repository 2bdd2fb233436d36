"""Class-conditional digits: how often the project's classifier recognises a generated digit as the class asked for.

    VAELIB_DATA_DIR=... python benchmarks/recognition.py     # writes benchmarks/results/recognition.json

What `vae-generate --digit D` and notebook 04 do: encode the first 10,000 training images
(vaelib.core.conditional.FIT_IMAGES), fit each class density (one Gaussian per class, the aggregate posterior, and the
aggregate posterior of the typical images, the default), draw 100 digits per class with seed 0, and let the shipped
classifier (vaelib/weights/classifier.pth) label them (vaelib.core.conditional.recognition), for the shipped 2-D and
16-D models.
"""

import argparse

import machine
import torch

from vaelib import load_mnist, load_model, pretrained_path
from vaelib.core import conditional
from vaelib.core.classifier import accuracy, load_classifier
from vaelib.core.latent import encode_posteriors

KINDS = ("gaussian", "posterior", "typical")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-class", type=int, default=100, help="digits generated per class (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir")
    p.add_argument("--output", default=str(machine.RESULTS / "recognition.json"))
    args = p.parse_args()
    mnist = load_mnist(args.data_dir)
    fit_on = mnist.train.head(conditional.FIT_IMAGES)
    judge = load_classifier()
    result = {
        "machine": machine.describe(torch.device("cpu")),
        "fit_images": len(fit_on),
        "per_class": args.per_class,
        "seed": args.seed,
        "classifier": "vaelib/weights/classifier.pth",
        "classifier_test_accuracy_percent": 100 * accuracy(judge, mnist.test),
        "models": {},
    }
    for latent_dim in (2, 16):
        path = pretrained_path(latent_dim)
        model = load_model(path)[0]
        mus, sigmas = encode_posteriors(model, fit_on)
        scores = {}
        for kind in KINDS:
            density = conditional.densities_from_codes(mus, sigmas, fit_on.labels, kind)
            score = conditional.recognition(model, density, judge, per_class=args.per_class, seed=args.seed)
            scores[kind] = {
                "percent": (100 * score.rates).tolist(),  # of each digit asked for, recognised as that digit
                "mean_percent": 100 * score.mean,
                "confusion": score.confusion.tolist(),  # [asked for][recognised as], counts
            }
            rates = " ".join(f"{r:4.0%}" for r in score.rates.tolist())
            print(f"{latent_dim:>2}-D {kind:<10} {rates}  mean {score.mean:.1%}", flush=True)
        result["models"][f"vaelib/weights/{path.name}"] = {"latent_dim": latent_dim, "densities": scores}
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
