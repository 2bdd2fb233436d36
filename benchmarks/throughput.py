"""Training throughput: vaelib's pipeline against the seed-style pipeline, in one run on one machine.

    OMP_NUM_THREADS=2 python benchmarks/throughput.py          # writes benchmarks/results/throughput.json

vaelib:      the training split resident as one tensor, batches sliced from it, channels-last model,
             stepped by vaelib.core.training.train_epoch itself (the code `vae-train` runs).
seed-style:  DataLoader(MNIST(transform=ToTensor())) over the same 55,000 training images
             (classic_pipeline.torchvision_loader, beside this file), a plain fp32 contiguous model, and the
             textbook step (forward, loss, backward, Adam step).
Both use the same model class, Adam with the original learning rate 1e-4, fp32, and the same batch size.

Timing: each pipeline runs in fresh child processes (vaelib's tunes the CPU allocator as `vae-train`
does, which is process-wide, so the two must not share a process). The children take turns
(A B B A ...); each runs one untimed warm-up window and --windows timed windows of --window steps, and
images/s is the median over all windows, so drift in the load of a shared machine hits both alike.
Peak memory is each child's peak resident set size (VmHWM on Linux); it includes the Python + torch
baseline after imports, reported separately.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # train_epoch's progress bar would only add noise here

import machine  # noqa: E402
import torch  # noqa: E402
from classic_pipeline import torchvision_loader  # noqa: E402

from vaelib import VAE, Digits, ModelConfig, TrainConfig, load_mnist, pick_device  # noqa: E402
from vaelib.core.device import keep_freed_memory  # noqa: E402
from vaelib.core.training import train_epoch  # noqa: E402
from vaelib.runs.run import Run  # noqa: E402


class VaelibPipeline:
    """Windows of vaelib.core.training.train_epoch over consecutive slices of the resident training split."""

    name = "vaelib"

    def __init__(self, batch_size: int, device, data_dir=None):
        if device.type == "cpu":
            keep_freed_memory()  # what vae-train does before a CPU run (vaelib.runs.run)
        self.config = TrainConfig(batch_size=batch_size)
        self.train = load_mnist(data_dir).train.to(device)
        self.run = Run(self.config, ModelConfig(), device, steps_per_epoch=1)
        self.offset, self.window = 0, 0

    def steps(self, n: int) -> int:
        size = n * self.config.batch_size
        if self.offset + size > len(self.train):
            self.offset = 0
        chunk = Digits(
            self.train.images[self.offset : self.offset + size], self.train.labels[self.offset : self.offset + size]
        )
        self.offset += size
        self.window += 1
        r = self.run
        train_epoch(r.model, r.optimizer, r.scheduler, chunk, self.config, r.generator, self.window)
        return size


class SeedPipeline:
    """The classic loop: DataLoader + ToTensor batches into a contiguous fp32 model."""

    name = "seed-style"

    def __init__(self, batch_size: int, device, data_dir=None):
        torch.manual_seed(0)
        self.device = device
        self.loader = torchvision_loader(data_dir, batch_size=batch_size, generator=torch.Generator().manual_seed(0))
        self.batches = iter(self.loader)
        self.model = VAE(ModelConfig()).to(device).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=TrainConfig().learning_rate)

    def next_batch(self) -> torch.Tensor:
        try:
            x, _ = next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            x, _ = next(self.batches)
        return x.to(self.device)

    def steps(self, n: int) -> int:
        seen = 0
        for _ in range(n):
            x = self.next_batch()
            loss = self.model.loss(x).objective
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            seen += len(x)
        return seen


PIPELINES = {p.name: p for p in (VaelibPipeline, SeedPipeline)}


def timed(pipeline, steps: int, device) -> float:
    """Images per second over one window of `steps` training steps."""
    machine.sync(device)
    start = time.perf_counter()
    images = pipeline.steps(steps)
    machine.sync(device)
    return images / (time.perf_counter() - start)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    Linux: VmHWM of /proc/self/status, which starts afresh at exec (ru_maxrss would carry over the
    parent's peak through fork). Elsewhere ru_maxrss (bytes on macOS).
    """
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 2**10
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def child(args) -> None:
    """Run one pipeline alone in this fresh process: warm up, time --windows windows, print JSON."""
    device = pick_device(args.device)
    baseline = peak_rss_mb()  # Python + torch + vaelib imported, nothing loaded yet
    pipeline = PIPELINES[args.child](args.batch_size, device, args.data_dir)
    pipeline.steps(args.window)  # warm-up: allocator, kernels, DataLoader start
    rates = [timed(pipeline, args.window, device) for _ in range(args.windows)]
    result = {"rates": rates, "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": baseline}
    if device.type == "cuda":
        result["peak_cuda_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    print(json.dumps(result))


def run_child(name: str, args) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--window",
        str(args.window),
        "--windows",
        str(args.windows),
        "--batch-size",
        str(args.batch_size),
        "--device",
        args.device,
    ]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--window", type=int, default=20, help="training steps per timed window (default 20)")
    p.add_argument("--rounds", type=int, default=4, help="child processes per pipeline, alternating (default 4)")
    p.add_argument("--windows", type=int, default=3, help="timed windows in each child (default 3)")
    p.add_argument(
        "--threads",
        type=int,
        help="torch.set_num_threads (default: torch's choice, from OMP_NUM_THREADS or the core count)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir")
    p.add_argument("--output", default=str(machine.RESULTS / "throughput.json"))
    p.add_argument("--child", choices=sorted(PIPELINES), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        return child(args)

    device = pick_device(args.device)
    info = machine.describe(device)
    names = ("vaelib", "seed-style")
    rates, memory = {name: [] for name in names}, {}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            out = run_child(name, args)
            rates[name] += out["rates"]
            memory[name] = {k: max(v, memory.get(name, {}).get(k, 0)) for k, v in out.items() if k != "rates"}
            print(
                f"round {round_ + 1}/{args.rounds} {name:>10}: "
                + " ".join(f"{r:.0f}" for r in out["rates"])
                + " images/s",
                flush=True,
            )
    median = {name: statistics.median(r) for name, r in rates.items()}
    result = {
        "machine": {**info, "load_average_1min_end": os.getloadavg()[0]},
        "batch_size": args.batch_size,
        "window_steps": args.window,
        "rounds": args.rounds,
        "windows_per_round": args.windows,
        "images_per_s": median,
        "images_per_s_windows": rates,
        "ratio": median["vaelib"] / median["seed-style"],
        "peak_memory": memory,
        "memory_note": "peak RSS (Linux VmHWM) of the child processes running one pipeline; baseline = after imports",
    }
    print(
        f"vaelib {median['vaelib']:.0f} images/s, seed-style {median['seed-style']:.0f} images/s: "
        f"{result['ratio']:.2f}x at batch {args.batch_size} "
        f"({info['torch_threads']} threads, load {info['load_average_1min']:.1f})"
    )
    for name, m in memory.items():
        print(f"peak RSS {name}: {m['peak_rss_mb']:.0f} MB (baseline after imports {m['baseline_rss_mb']:.0f} MB)")
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
