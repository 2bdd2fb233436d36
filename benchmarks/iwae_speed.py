"""Importance-weighted bound speed: images/s of the bound's inner loop against a bare decoder forward pass.

    python benchmarks/iwae_speed.py      # writes benchmarks/results/iwae_speed.json

The bound decodes k codes per test image; everything around the decoder (drawing z, the Bernoulli
log-likelihood, the prior and posterior densities, logsumexp) is overhead. Both sides run in one process,
alternating, with the same threads, the same model copy (channels-last, as `vae-evaluate` uses it) and the
same number of decoded images per call, so their ratio says how close the loop runs to the decoder's speed.
"""

import argparse
import copy
import statistics
import time

import machine
import torch

from vaelib import VAE, ModelConfig, load_mnist, load_model, pretrained_path
from vaelib.core.measures import iwae_log_weights


def timed(fn, reps: int) -> float:
    """Median seconds of fn() over reps calls, after two warm-up calls."""
    fn(), fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=50, help="test images per call (vae-evaluate's default)")
    p.add_argument("--k", type=int, default=80, help="importance samples per image: batch x k = 4,000 decodes a call")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--output", default=str(machine.RESULTS / "iwae_speed.json"))
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    path = pretrained_path(2)
    model = load_model(path)[0] if path.exists() else VAE(ModelConfig()).eval()
    model = copy.deepcopy(model).to(memory_format=torch.channels_last)
    x = load_mnist().test.images[: args.batch_size]
    z = torch.randn(args.batch_size * args.k, model.config.latent_dim)
    generator = torch.Generator().manual_seed(0)
    decoded = len(z)

    def decoder():
        with torch.no_grad():
            model.decode_logits(z)

    def bound():
        iwae_log_weights(model, x, args.k, chunk=decoded, generator=generator)

    rates = {"decoder": [], "bound": []}
    for _ in range(args.rounds):  # alternate, so a change in machine load touches both sides alike
        rates["decoder"].append(decoded / timed(decoder, args.reps))
        rates["bound"].append(decoded / timed(bound, args.reps))
    median = {name: statistics.median(values) for name, values in rates.items()}
    result = {
        "machine": machine.describe(torch.device("cpu")),
        "model": f"vaelib/weights/{path.name}" if path.exists() else "fresh VAE(latent_dim=2)",
        "batch_size": args.batch_size,
        "k": args.k,
        "decoded_images_per_call": decoded,
        "images_per_s": median,
        "ratio": median["bound"] / median["decoder"],
        "rounds": rates,
    }
    print(
        f"decoder {median['decoder']:,.0f} images/s, bound {median['bound']:,.0f} images/s: "
        f"the bound runs at {result['ratio']:.0%} of the decoder's speed"
    )
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
