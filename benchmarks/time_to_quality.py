"""Time to quality: wall-clock seconds from a fresh model until validation -ELBO <= 168 nats.

    OMP_NUM_THREADS=2 python benchmarks/time_to_quality.py     # writes benchmarks/results/time_to_quality.json

fast:      `vae-train --recipe fast --epochs 4` exactly (the one-cycle schedule spans the epochs asked for;
           --fast-epochs changes the 4): vaelib.runs.run.Run builds the model, optimizer and schedule from
           TrainConfig + RECIPES["fast"], and vaelib.core.training.train_epoch runs the steps.
original:  the original design's defaults with the seed-style pipeline: DataLoader + ToTensor over the
           same 55,000 training images (classic_pipeline.torchvision_loader, beside this file), a contiguous
           fp32 model, Adam at 1e-4, batch 128, constant rate.

Both start from torch.manual_seed(0) and are scored by vaelib.core.measures.estimate_elbo on the same 5,000
validation images every --eval-every steps. The clock counts training only: it is paused while the
validation set is evaluated (and data loading before the first step is not counted, for either).
A run stops at the first evaluation at or below the target, when its training time passes --cap
seconds (reported as "> cap", never extrapolated), or when the recipe's schedule ends.
"""

import argparse
import os
import time
from dataclasses import replace

os.environ.setdefault("TQDM_DISABLE", "1")  # train_epoch's progress bar would only add noise here

import machine  # noqa: E402
import torch  # noqa: E402
from classic_pipeline import torchvision_loader  # noqa: E402

from vaelib import RECIPES, VAE, ModelConfig, TrainConfig, load_mnist, pick_device  # noqa: E402
from vaelib.core.data import num_batches  # noqa: E402
from vaelib.core.measures import estimate_elbo  # noqa: E402
from vaelib.core.training import train_epoch  # noqa: E402
from vaelib.runs.run import Run  # noqa: E402


class Stop(Exception):
    """Raised from inside the training loop once the target is reached or the time is up."""


class Clock:
    """Training-time stopwatch with a validation check every `every` steps (not counted in the time)."""

    def __init__(self, model, val, target: float, every: int, cap: float, device):
        self.model, self.val, self.target, self.every, self.cap, self.device = model, val, target, every, cap, device
        self.steps, self.trained, self.curve, self.reached = 0, 0.0, [], None
        self.started = time.perf_counter()

    def step(self) -> None:
        """Call after every optimizer step; raises Stop when the run is over."""
        self.steps += 1
        if self.steps % self.every == 0:
            self.check()

    def finish(self) -> None:
        """The schedule ended: score the final model too, unless the last step was just scored."""
        if self.steps % self.every:
            try:
                self.check()
            except Stop:
                pass

    def check(self) -> None:
        """Stop the clock, score the model on the validation set, and raise Stop if the run is over."""
        machine.sync(self.device)
        self.trained += time.perf_counter() - self.started
        val = estimate_elbo(self.model, self.val)["neg_elbo"]
        self.curve.append({"step": self.steps, "seconds": round(self.trained, 2), "val_loss": round(val, 3)})
        print(f"  step {self.steps:>6}  {self.trained:7.1f} s  val −ELBO {val:7.2f}", flush=True)
        if val <= self.target:
            self.reached = self.trained
            raise Stop
        if self.trained >= self.cap:
            raise Stop
        self.started = time.perf_counter()


class ClockedScheduler:
    """The run's own LR scheduler, with the clock ticking after each step (train_epoch calls scheduler.step())."""

    def __init__(self, scheduler, clock: Clock):
        self.scheduler, self.clock = scheduler, clock

    def step(self) -> None:
        self.scheduler.step()
        self.clock.step()


def run_fast(mnist, device, args) -> dict:
    """The fast recipe as `vae-train --recipe fast --epochs N` runs it, on the resident data path."""
    config = replace(TrainConfig(), **{**RECIPES["fast"], "epochs": args.fast_epochs})
    train, val = mnist.train.to(device), mnist.val.to(device)
    run = Run(config, ModelConfig(), device, num_batches(train, config.batch_size))
    clock = Clock(run.model, val, args.target, args.eval_every, args.cap, device)
    scheduler = ClockedScheduler(run.scheduler, clock)
    try:
        for epoch in range(1, config.epochs + 1):
            train_epoch(run.model, run.optimizer, scheduler, train, config, run.generator, epoch)
        clock.finish()
    except Stop:
        pass
    settings_ = {
        "recipe": RECIPES["fast"],
        "epochs": config.epochs,
        "command": f"vae-train --recipe fast --epochs {config.epochs}",
    }
    return summary(clock, settings_)


def run_original(mnist, device, args) -> dict:
    """The original defaults, trained the seed's way."""
    config = TrainConfig()
    torch.manual_seed(config.seed)
    loader = torchvision_loader(args.data_dir, config.batch_size, generator=torch.Generator().manual_seed(0))
    model = VAE(ModelConfig()).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    clock = Clock(model, mnist.val.to(device), args.target, args.eval_every, args.cap, device)
    try:
        while True:
            for x, _ in loader:
                loss = model.loss(x.to(device)).objective
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                clock.step()
    except Stop:
        pass
    return summary(
        clock,
        {
            "learning_rate": config.learning_rate,
            "batch_size": config.batch_size,
            "pipeline": "DataLoader + ToTensor, fp32, contiguous",
        },
    )


def summary(clock: Clock, settings_: dict) -> dict:
    last = clock.curve[-1] if clock.curve else {"seconds": clock.trained, "val_loss": None, "step": clock.steps}
    return {
        "settings": settings_,
        "reached": clock.reached is not None,
        "seconds": clock.reached if clock.reached is not None else last["seconds"],
        "steps": last["step"],
        "final_val_loss": last["val_loss"],
        "curve": clock.curve,
    }


RUNS = {"fast": run_fast, "original": run_original}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=168.0, help="validation -ELBO to reach, nats (default 168)")
    p.add_argument("--eval-every", type=int, default=50, help="training steps between validation checks (default 50)")
    p.add_argument("--cap", type=float, default=600.0, help="give up after this many seconds of training (default 600)")
    p.add_argument(
        "--fast-epochs", type=int, default=4, help="epochs the fast recipe's one-cycle schedule spans (default 4)"
    )
    p.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=["fast", "original"])
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir")
    p.add_argument("--output", default=str(machine.RESULTS / "time_to_quality.json"))
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    info = machine.describe(device)
    mnist = load_mnist(args.data_dir)
    results = {}
    for name in args.runs:
        print(f"{name}: training until val −ELBO <= {args.target} (cap {args.cap:.0f} s)", flush=True)
        results[name] = RUNS[name](mnist, device, args)
        r = results[name]
        print(
            f"{name}: {'reached' if r['reached'] else 'NOT reached'} "
            f"after {r['seconds']:.1f} s of training, {r['steps']} steps"
        )
    result = {
        "machine": {**info, "load_average_1min_end": os.getloadavg()[0]},
        "target": args.target,
        "eval_every": args.eval_every,
        "cap_s": args.cap,
        "clock": "training time only; validation checks and data loading excluded",
        "runs": results,
    }
    if {"fast", "original"} <= results.keys() and results["fast"]["reached"]:
        ratio = results["original"]["seconds"] / results["fast"]["seconds"]
        result["speedup"] = ratio
        result["speedup_is_lower_bound"] = not results["original"]["reached"]
        print(f"speedup: {'>' if result['speedup_is_lower_bound'] else ''}{ratio:.1f}x")
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
