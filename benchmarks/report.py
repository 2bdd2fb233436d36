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
    "evaluate_latent2": "vae-evaluate --json --k 100 --checkpoint checkpoints/pretrained/vae_latent2.pth > benchmarks/results/evaluate_latent2.json",
    "evaluate_latent16": "vae-evaluate --json --k 100 --checkpoint checkpoints/pretrained/vae_latent16.pth > benchmarks/results/evaluate_latent16.json",
    "explorer_latency": "python benchmarks/explorer_latency.py",
    "notebooks": "python benchmarks/notebook_time.py",
}


def load(folder: Path, name: str):
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine_line(info: dict) -> str:
    threads = f"{info['torch_threads']} torch thread{'s' * (info['torch_threads'] != 1)}"
    gpu = f", {info['gpu']}" if "gpu" in info else ""
    load_ = f"load average {info['load_average_1min']:.1f}"
    return f"{info['cpu']} ({info['cpu_count']} cores){gpu}, {threads}, torch {info['torch']}, {load_}, {info['utc']} UTC"


def missing(name: str) -> list[str]:
    return [f"| {name} | not measured: run `{COMMANDS[name]}` | |"]


def throughput_rows(r) -> list[str]:
    if r is None:
        return missing("throughput")
    ips, mem = r["images_per_s"], r["peak_memory"]
    return [
        f"| training throughput, batch {r['batch_size']}, vaelib | {ips['vaelib']:,.0f} images/s | {machine_line(r['machine'])} |",
        f"| training throughput, batch {r['batch_size']}, seed-style DataLoader + ToTensor | {ips['seed-style']:,.0f} images/s | same run, alternating {r['window_steps']}-step windows, medians of {r['rounds']} |",
        f"| throughput ratio vaelib / seed-style | **{r['ratio']:.2f}x** | |",
        f"| peak memory (RSS), vaelib / seed-style | {mem['vaelib']['peak_rss_mb']:,.0f} MB / {mem['seed-style']['peak_rss_mb']:,.0f} MB | "
        f"fresh process each; {mem['vaelib']['baseline_rss_mb']:,.0f} MB of it is Python + torch after import |",
    ]


def ttq_rows(r) -> list[str]:
    if r is None:
        return missing("time_to_quality")
    rows = []
    for name, run in r["runs"].items():
        label = f"fast recipe (`{run['settings']['command']}`)" if name == "fast" else "original defaults (lr 1e-4, batch 128, seed-style pipeline)"
        if run["reached"]:
            value = f"{run['seconds']:.0f} s"
        else:
            value = f"> {run['seconds']:.0f} s (val −ELBO {run['final_val_loss']:.1f} when stopped)"
        rows.append(f"| time to val −ELBO ≤ {r['target']:.0f}, {label} | {value} | {run['steps']} steps; {machine_line(r['machine'])} |")
    if "speedup" in r:
        rows.append(f"| time-to-quality speedup | **{'> ' if r['speedup_is_lower_bound'] else ''}{r['speedup']:.1f}x** | "
                    f"training time only, validation every {r['eval_every']} steps not counted |")
    return rows


def eval_rows(name: str, r) -> list[str]:
    if r is None:
        return missing(name)
    where = f"{r['test_images']:,} test images, {r['checkpoint'].rsplit('/', 1)[-1]}"
    return [
        f"| {r['latent_dim']}-D latent: test −ELBO (recon + KL) | {r['neg_elbo']:.2f} ({r['recon']:.2f} + {r['kl']:.2f}) nats, {r['neg_elbo_bpd']:.4f} bits/dim | {where} |",
        f"| {r['latent_dim']}-D latent: IWAE bound, k = {r['iwae_k']} | {r['iwae']:.2f} nats, {r['iwae_bpd']:.4f} bits/dim | active units {r['active_units']} of {r['latent_dim']} |",
        f"| {r['latent_dim']}-D latent: Fréchet distance / class entropy / confidence | {r['frechet_distance']:.2f} / {r['class_entropy']:.3f} / {r['mean_confidence']:.3f} | "
        f"{r['num_samples']:,} samples from the prior vs the test images, classifier features"
        + (f" (real training digits: {r['frechet_distance_real']:.2f})" if r.get("frechet_distance_real") is not None else "") + " |",
    ]


def latency_rows(r) -> list[str]:
    if r is None:
        return missing("decode_latency")
    return [f"| decode latency, 1 z / 100 z | {r['decode_1_ms']:.2f} ms / {r['decode_100_ms']:.2f} ms | median of {r['reps']}; {machine_line(r['machine'])} |"]


def explorer_rows(r) -> list[str]:
    if r is None:
        return missing("explorer_latency")
    return [f"| explorer slider update (decode + PNG + marker) | {r['slider_median_ms']:.2f} ms median, {r['slider_p90_ms']:.2f} ms p90 "
            f"| {r['updates']} updates, target ≤ {r['target_ms']:.0f} ms; {machine_line(r['machine'])} |"]


def notebook_rows(r) -> list[str]:
    if r is None:
        return missing("notebooks")
    return [f"| notebook CI time | {r['seconds']:.0f} s | `{r['command']}` |"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="?", type=Path, default=machine.RESULTS, help="folder of JSON results (default benchmarks/results)")
    folder = p.parse_args().results
    lines = ["| measurement | result | conditions |", "|---|---|---|"]
    lines += throughput_rows(load(folder, "throughput"))
    lines += ttq_rows(load(folder, "time_to_quality"))
    lines += eval_rows("evaluate_latent2", load(folder, "evaluate_latent2"))
    lines += eval_rows("evaluate_latent16", load(folder, "evaluate_latent16"))
    lines += latency_rows(load(folder, "decode_latency"))
    lines += explorer_rows(load(folder, "explorer_latency"))
    lines += notebook_rows(load(folder, "notebooks"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
