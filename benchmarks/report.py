"""Print the README's results table (Markdown) from the JSON files in benchmarks/results/.

    python benchmarks/report.py            # paste the output into README.md

Nothing here is typed in by hand: every number comes from a file the benchmark scripts (or
`vae-evaluate --json`) wrote; a missing file gives a row that says "not measured" and the command.
"""

import argparse
import json
from pathlib import Path

import machine

COMMANDS = {
    "throughput": "python benchmarks/throughput.py",
    "time_to_quality": "python benchmarks/time_to_quality.py",
    "decode_latency": "python benchmarks/decode_latency.py",
    "evaluate_latent2": "vae-evaluate --json --k 100 --checkpoint vaelib/weights/vae_latent2.pth"
    " > benchmarks/results/evaluate_latent2.json",
    "evaluate_latent16": "vae-evaluate --json --k 100 --checkpoint vaelib/weights/vae_latent16.pth"
    " > benchmarks/results/evaluate_latent16.json",
    "explorer_latency": "python benchmarks/explorer_latency.py",
    "iwae_speed": "python benchmarks/iwae_speed.py",
    "notebooks": "python benchmarks/notebook_time.py",
}


def load(folder: Path, name: str):
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine_line(info: dict) -> str:
    threads = f"{info['torch_threads']} torch thread{'s' * (info['torch_threads'] != 1)}"
    gpu = f", {info['gpu']}" if "gpu" in info else ""
    load_ = f"load average {info['load_average_1min']:.1f}"
    features = f" {'+'.join(info['cpu_features'])}" if info.get("cpu_features") else ""  # recorded since round 2
    cpu = f"{info['cpu']}{features} ({info['cpu_count']} cores){gpu}"
    return f"{cpu}, {threads}, torch {info['torch']}, {load_}, {info['utc']} UTC"


def row(*cells: str) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def missing(name: str) -> list[str]:
    return [row(name, f"not measured: run `{COMMANDS[name]}`", "")]


def throughput_rows(r) -> list[str]:
    if r is None:
        return missing("throughput")
    ips, mem, batch = r["images_per_s"], r["peak_memory"], r["batch_size"]
    windows = f"same run, alternating {r['window_steps']}-step windows, medians of {r['rounds']}"
    peaks = f"{mem['vaelib']['peak_rss_mb']:,.0f} MB / {mem['seed-style']['peak_rss_mb']:,.0f} MB"
    baseline = f"fresh process each; {mem['vaelib']['baseline_rss_mb']:,.0f} MB of it is Python + torch after import"
    return [
        row(
            f"training throughput, batch {batch}, vaelib", f"{ips['vaelib']:,.0f} images/s", machine_line(r["machine"])
        ),
        row(
            f"training throughput, batch {batch}, seed-style DataLoader + ToTensor",
            f"{ips['seed-style']:,.0f} images/s",
            windows,
        ),
        row("throughput ratio vaelib / seed-style", f"**{r['ratio']:.2f}x**", ""),
        row("peak memory (RSS), vaelib / seed-style", peaks, baseline),
    ]


def ttq_rows(r) -> list[str]:
    if r is None:
        return missing("time_to_quality")
    rows = []
    for name, run in r["runs"].items():
        label = (
            f"fast recipe (`{run['settings']['command']}`)"
            if name == "fast"
            else "original defaults (lr 1e-4, batch 128, seed-style pipeline)"
        )
        if run["reached"]:
            value = f"{run['seconds']:.0f} s"
        else:
            value = f"> {run['seconds']:.0f} s (val −ELBO {run['final_val_loss']:.1f} when stopped)"
        rows.append(
            row(
                f"time to val −ELBO ≤ {r['target']:.0f}, {label}",
                value,
                f"{run['steps']} steps; {machine_line(r['machine'])}",
            )
        )
    if "speedup" in r:
        speedup = f"**{'> ' if r['speedup_is_lower_bound'] else ''}{r['speedup']:.1f}x**"
        rows.append(
            row(
                "time-to-quality speedup",
                speedup,
                f"training time only, validation every {r['eval_every']} steps not counted",
            )
        )
    return rows


def eval_rows(name: str, r) -> list[str]:
    if r is None:
        return missing(name)
    d = r["latent_dim"]
    where = f"{r['test_images']:,} test images, {r['checkpoint'].rsplit('/', 1)[-1]}"
    elbo = f"{r['neg_elbo']:.2f} ({r['recon']:.2f} + {r['kl']:.2f}) nats, {r['neg_elbo_bpd']:.4f} bits/dim"
    iwae = f"{r['iwae']:.2f} nats, {r['iwae_bpd']:.4f} bits/dim"
    quality = f"{r['frechet_distance']:.2f} / {r['class_entropy']:.3f} / {r['mean_confidence']:.3f}"
    scale = f"{r['num_samples']:,} samples from the prior vs the test images, classifier features"
    if r.get("frechet_distance_real") is not None:
        scale += f" (real training digits: {r['frechet_distance_real']:.2f})"
    return [
        row(f"{d}-D latent: test −ELBO (recon + KL)", elbo, where),
        row(f"{d}-D latent: IWAE bound, k = {r['iwae_k']}", iwae, f"active units {r['active_units']} of {d}"),
        row(f"{d}-D latent: Fréchet distance / class entropy / confidence", quality, scale),
    ]


def latency_rows(r) -> list[str]:
    if r is None:
        return missing("decode_latency")
    value = f"{r['decode_1_ms']:.2f} ms / {r['decode_100_ms']:.2f} ms"
    return [row("decode latency, 1 z / 100 z", value, f"median of {r['reps']}; {machine_line(r['machine'])}")]


def explorer_rows(r) -> list[str]:
    if r is None:
        return missing("explorer_latency")
    value = f"{r['slider_median_ms']:.2f} ms median, {r['slider_p90_ms']:.2f} ms p90"
    where = f"{r['updates']} updates, target ≤ {r['target_ms']:.0f} ms; {machine_line(r['machine'])}"
    return [row("explorer slider update (decode + PNG + marker)", value, where)]


def iwae_rows(r) -> list[str]:
    if r is None:
        return missing("iwae_speed")
    rates = r["images_per_s"]
    value = f"{r['ratio']:.0%} ({rates['bound']:,.0f} / {rates['decoder']:,.0f} decoded images/s)"
    rounds = len(r["rounds"]["bound"])
    where = f"batch {r['batch_size']} x k {r['k']}, medians of {rounds}; {machine_line(r['machine'])}"
    return [row("IWAE bound speed / bare decoder speed", value, where)]


def notebook_rows(r) -> list[str]:
    if r is None:
        return missing("notebooks")
    return [row("notebook CI time", f"{r['seconds']:.0f} s", f"`{r['command']}`; {machine_line(r['machine'])}")]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "results",
        nargs="?",
        type=Path,
        default=machine.RESULTS,
        help="folder of JSON results (default benchmarks/results)",
    )
    folder = p.parse_args().results
    lines = ["| measurement | result | conditions |", "|---|---|---|"]
    lines += throughput_rows(load(folder, "throughput"))
    lines += ttq_rows(load(folder, "time_to_quality"))
    lines += eval_rows("evaluate_latent2", load(folder, "evaluate_latent2"))
    lines += eval_rows("evaluate_latent16", load(folder, "evaluate_latent16"))
    lines += latency_rows(load(folder, "decode_latency"))
    lines += explorer_rows(load(folder, "explorer_latency"))
    lines += iwae_rows(load(folder, "iwae_speed"))
    lines += notebook_rows(load(folder, "notebooks"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
