"""Decode latency: how long the decoder takes to turn z into digits (what the interactive explorer waits for).

    OMP_NUM_THREADS=2 python benchmarks/decode_latency.py      # writes benchmarks/results/decode_latency.json

Times model.decode(z) under torch.inference_mode for one z (a slider move) and for 100 (a 10x10 grid),
median of --reps calls after a warm-up, on the shipped 2-D checkpoint (speed does not depend on the
weights, so a freshly initialised model of the same architecture stands in if it is missing).
"""

import argparse
import statistics
import time

import machine
import torch

from vaelib import VAE, ModelConfig, load_model, pick_device, pretrained_path


def median_ms(fn, reps: int, device) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(reps):
        machine.sync(device)
        start = time.perf_counter()
        fn()
        machine.sync(device)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--output", default=str(machine.RESULTS / "decode_latency.json"))
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    path = pretrained_path(2)
    model = load_model(path, device)[0] if path.exists() else VAE(ModelConfig()).to(device).eval()
    result = {
        "machine": machine.describe(device),
        "model": f"vaelib/weights/{path.name}" if path.exists() else "fresh VAE(latent_dim=2)",
        "reps": args.reps,
    }
    with torch.inference_mode():
        for n in (1, 100):
            z = torch.randn(n, model.config.latent_dim, device=device)
            result[f"decode_{n}_ms"] = median_ms(lambda z=z: model.decode(z), args.reps, device)
            print(f"decode {n:>3} z: {result[f'decode_{n}_ms']:.2f} ms (median of {args.reps})")
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
