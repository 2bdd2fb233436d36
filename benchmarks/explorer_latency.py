"""How long one explorer slider move costs in the kernel: decode z, encode the PNG, move the map marker.

    OMP_NUM_THREADS=1 python benchmarks/explorer_latency.py [--checkpoint PATH] [--updates 300]

The target is at most 30 ms per update on a 2-core CPU (the widget round trip to the browser comes on top).
Setting a slider's value from Python runs the same observer a browser move triggers, synchronously, so the
time of the assignment is the time of the update.
"""

import argparse
import statistics
import time

import machine
import torch

import vaelib
from vaelib.core import latent
from vaelib.notebook import explorer
from vaelib.runs.images import png_bytes

TARGET_MS = 30.0


def timed(fn, values) -> list[float]:
    """Milliseconds of fn(v) for each value."""
    times = []
    for value in values:
        start = time.perf_counter()
        fn(value)
        times.append(1000 * (time.perf_counter() - start))
    return times


def summary(name: str, times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    return f"{name:<34} median {statistics.median(times):6.2f} ms   p90 {q[-1]:6.2f} ms   max {max(times):6.2f} ms"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", help="default: the shipped 2-D pretrained model")
    p.add_argument("--updates", type=int, default=300)
    p.add_argument("--output", default=str(machine.RESULTS / "explorer_latency.json"))
    args = p.parse_args()
    model = explorer.load_explorer_model(args.checkpoint or vaelib.pretrained_path(2))
    test = vaelib.load_mnist().test
    ex = explorer.LatentExplorer(model, test)
    interp = explorer.InterpolationExplorer(model, test)
    values = [float(v) for v in torch.linspace(-2.5, 2.5, args.updates)]
    z = torch.zeros(1, model.config.latent_dim)
    ex.sliders[0].value = values[-1]  # warm-up

    def set_slider(v):
        ex.sliders[0].value = v

    def set_t(v):
        interp.t.value = (v + 2.5) / 5

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"latent_dim {model.config.latent_dim}, {args.updates} updates each"
    )
    slider = timed(set_slider, values)
    print(summary("decode only", timed(lambda v: latent.codes_to_images(model, z + v), values)))
    print(summary("PNG encode only", timed(lambda v: png_bytes(torch.full((1, 28, 28), (v + 2.5) / 5)), values)))
    print(summary("LatentExplorer slider update", slider))
    print(summary("InterpolationExplorer t update", timed(set_t, values)))
    verdict = "within" if statistics.median(slider) <= TARGET_MS else "OVER"
    print(f"slider update median {statistics.median(slider):.2f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    result = {
        "machine": machine.describe(torch.device("cpu")),
        "updates": args.updates,
        "slider_median_ms": statistics.median(slider),
        "slider_p90_ms": statistics.quantiles(slider, n=10)[-1],
        "target_ms": TARGET_MS,
    }
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
