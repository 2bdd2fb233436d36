"""Write the results page, benchmarks/RESULTS.md, from the JSON files in benchmarks/results/.

    python benchmarks/report.py                  # prints the page (Markdown)
    python benchmarks/report.py --write          # writes benchmarks/RESULTS.md (what `make results` runs)

Nothing on the page is typed in by hand: every number comes from a file that a benchmark script or `vae-evaluate
--json` wrote (or, for the "What number should I expect?" table, from its one source file, rendered by
vaelib.notebook.tables.expected_numbers_table, as notebook 02 renders it). Each file names the command that wrote
it; a missing file gives a line that says "not measured" and the command to run. tests/test_results.py regenerates
the page and compares it with the committed one.
"""

import argparse
import json
import sys
from pathlib import Path

import machine

from vaelib.notebook.tables import expected_numbers_table

PAGE = machine.RESULTS.parent / "RESULTS.md"
COMMANDS = {  # what to run when a file is missing (each file, once written, names its own command)
    "expected_numbers": "(a source file: see vaelib/weights/README.md and the table's rows)",
    "beta_models": "python benchmarks/beta_models.py",
    "learning_curves": "python benchmarks/learning_curves.py",
    "time_to_quality": "python benchmarks/time_to_quality.py",
    "throughput": "python benchmarks/throughput.py",
    "whole_process": "python benchmarks/whole_process.py",
    "evaluate_latent2": "vae-evaluate --json --k 100 --checkpoint vaelib/weights/vae_latent2.pth"
    " > benchmarks/results/evaluate_latent2.json",
    "evaluate_latent16": "vae-evaluate --json --k 100 --checkpoint vaelib/weights/vae_latent16.pth"
    " > benchmarks/results/evaluate_latent16.json",
    "recognition": "python benchmarks/recognition.py",
    "decode_latency": "python benchmarks/decode_latency.py",
    "explorer_latency": "python benchmarks/explorer_latency.py",
    "iwae_speed": "python benchmarks/iwae_speed.py",
    "notebooks": "python benchmarks/notebook_time.py",
}


def load(folder: Path, name: str):
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine_line(info: dict | None) -> str:
    """CPU with its vector features, cores, torch threads, torch version, load and date of one measurement."""
    if not info:
        return "machine not recorded"
    threads = f"{info['torch_threads']} torch thread{'s' * (info['torch_threads'] != 1)}"
    gpu = f", {info['gpu']}" if "gpu" in info else ""
    load_ = f"load average {info['load_average_1min']:.1f}"
    features = "+".join(info["cpu_features"]) if info.get("cpu_features") else "features not recorded"
    cpu = f"{info['cpu']} ({features}, {info['cpu_count']} cores){gpu}"
    return f"{cpu}, {threads}, torch {info['torch']}, {load_}, {info['utc']} UTC"


def row(*cells: str) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def missing(name: str) -> str:
    return f"Not measured: run `{COMMANDS[name]}`."


def section(title: str, *parts: str) -> str:
    return "\n\n".join([f"## {title}", *[p for p in parts if p]])


def expected_section(folder: Path) -> str:
    path = folder / "expected_numbers.json"
    if not path.exists():
        return section("What number should I expect?", missing("expected_numbers"))
    return section(
        "What number should I expect?",
        "The table's one source is `benchmarks/results/expected_numbers.json`; "
        "`vaelib.notebook.tables.expected_numbers_table()` renders it, here and in notebook 02.",
        expected_numbers_table(path).strip(),
    )


def beta_section(r) -> str:
    title = "The β models: what the KL weight does"
    if r is None:
        return section(title, missing("beta_models"))
    what = (
        "The shipped models of notebook 06, one recipe for all (`vaelib/weights/README.md` has each model's command): "
        "2-D models at six KL weights β, and 16-D models at β = 0 (an autoencoder), 1, and 8 (plain, with a KL "
        "warm-up, and with free bits: each dimension's KL charged at least λ nats). Each "
        "is scored on all 10,000 test images and 10,000 samples from the prior by "
        "`vae-evaluate --k 0 --json --checkpoint vaelib/weights/FILE` (the `command` of each entry). Rate = KL term, "
        "distortion = reconstruction term, nats per image; ± is the Monte Carlo noise of the one-sample −ELBO "
        "(`neg_elbo_noise`); active units: dimensions whose posterior mean varies over the test images by more than "
        "0.01 (`vaelib.core.measures.active_units`); lower Fréchet distance is better; class entropy is at most "
        "ln 10, reached when the samples cover the ten digits evenly."
    )
    lines = [
        row("model", "latent", "β", "also", "rate", "distortion", "−ELBO", "active units", "Fréchet distance")
        + " class entropy |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, entry in r["models"].items():
        s, m = entry["settings"], entry["result"]
        also = []
        if "kl_warmup" in s:
            also.append(f"KL warm-up, {s['kl_warmup']} epochs")
        if "free_bits" in s:
            also.append(f"free bits λ = {s['free_bits']:g}")
        lines.append(
            row(
                f"`{name.removesuffix('.pth')}`",
                str(s["latent_dim"]),
                f"{s['beta']:g}",
                "; ".join(also),
                f"{m['kl']:.2f}",
                f"{m['recon']:.2f}",
                f"{m['neg_elbo']:.2f} ± {m['neg_elbo_noise']:.2f}",
                f"{m['active_units']} of {m['latent_dim']}",
                f"{m['frechet_distance']:.1f}",
                f"{m['class_entropy']:.3f}",
            )
        )
    return section(title, what, "\n".join(lines), f"Machine: {machine_line(r.get('machine'))}.")


def curves_section(r) -> str:
    title = "How the −ELBO falls with training"
    if r is None:
        return section(title, missing("learning_curves"))
    trained = (
        " the commands in the first columns, each run into a scratch folder (`vae-train --recipe fast --epochs 10` is "
        "what `make run` trains; `vae-train --epochs 10` is the original defaults, a constant learning rate of 1e-4 "
        "designed for 500 epochs), and"
        if r["runs"]
        else ""
    )
    what = (
        "Validation −ELBO (nats per image, on the 5,000 held-out images) after N epochs, seed 0, of"
        f"{trained} the shipped 2-D and 16-D models, read from the metrics their checkpoints store (their recipe: a "
        "one-cycle schedule up to a learning rate of 4e-3 at batch 128; `vaelib/weights/README.md`)."
        + (" The last line is each trained run's final model on the 10,000 test images." if r["runs"] else "")
        + ("" if r["runs"] else f" The training runs are not measured yet: run `{COMMANDS['learning_curves']}`.")
    )
    columns = {f"`{run['command']}`": run["curve"] for run in r["runs"].values()}
    columns.update({f"shipped `{s['checkpoint'].rsplit('/', 1)[-1]}`": s["curve"] for s in r["shipped"].values()})
    epochs = sorted({p["epoch"] for c in columns.values() for p in c} & {1, 2, 5, 10, 20, 40, 60})
    lines = [row("epochs", *columns), "|---:|" + "---:|" * len(columns)]
    for epoch in epochs:
        values = [next((f"{p['val_neg_elbo']:.1f}" for p in c if p["epoch"] == epoch), "") for c in columns.values()]
        lines.append(row(str(epoch), *values))
    tests = [f"{run['test']['neg_elbo']:.1f}" for run in r["runs"].values()]
    if tests:
        lines.append(row("test, final model", *tests, *[""] * (len(columns) - len(tests))))
    runs = [
        f"`{run['command']}` took {run['wall_seconds']:.0f} s"
        + (f" (load average {run['load_average_1min']:.1f} at its start)" if "load_average_1min" in run else "")
        for run in r["runs"].values()
    ]
    where = (
        f"Machine of the trained runs: {machine_line(r.get('machine'))}; {', '.join(runs)}. Wall time on this shared "
        "machine moves with the load; the −ELBO does not (seeded)."
        if runs
        else ""
    )
    return section(title, what, "\n".join(lines), where)


def ttq_section(r) -> str:
    title = "Time to quality"
    if r is None:
        return section(title, missing("time_to_quality"))
    what = (
        f"Seconds of training from a fresh model (seed 0) until the validation −ELBO is at most {r['target']:.0f} "
        f"nats, checked every {r['eval_every']} steps with the clock paused while the 5,000 validation images are "
        "scored (data loading before the first step is not counted either). *fast*: the fast recipe exactly as "
        "`vae-train` runs it; *original*: the original defaults (Adam at 1e-4, batch 128, constant rate) on the "
        "classic DataLoader + ToTensor pipeline (`benchmarks/classic_pipeline.py`), as the project's seed trained. "
        f"A run that has not reached the target after {r['cap_s']:.0f} s of training is reported as "
        '"> time" with the loss it had; nothing is extrapolated, and the speedup is then a lower bound.'
    )
    lines = [row("run", "time to target", "steps", "validation −ELBO at the end"), "|---|---:|---:|---:|"]
    for name, run in r["runs"].items():
        label = (
            f"fast recipe (`{run['settings']['command']}`)"
            if name == "fast"
            else "original defaults (lr 1e-4, batch 128, classic pipeline)"
        )
        value = f"{run['seconds']:.0f} s" if run["reached"] else f"> {run['seconds']:.0f} s (not reached)"
        lines.append(row(label, value, f"{run['steps']:,}", f"{run['final_val_loss']:.1f}"))
    if "speedup" in r:
        speedup = f"**{'> ' if r['speedup_is_lower_bound'] else ''}{r['speedup']:.1f}x**"
        lines.append(row("speedup", speedup, "", ""))
    return section(title, what, "\n".join(lines), f"Machine: {machine_line(r['machine'])}.")


def throughput_section(r) -> str:
    title = "Training throughput"
    if r is None:
        return section(title, missing("throughput"))
    what = (
        f"Training images per second at batch {r['batch_size']}, fp32, Adam, the same `VAE` class. *vaelib*: the "
        "training split resident as one tensor, batches sliced from it, a channels-last model, stepped by "
        "`vaelib.core.training.train_epoch` (the code `vae-train` runs). *seed-style*: the classic DataLoader + "
        "ToTensor pipeline (`benchmarks/classic_pipeline.py`) feeding a contiguous model, with the textbook forward, "
        f"backward and step. Each runs in fresh processes, taking turns in windows of {r['window_steps']} steps; the "
        f"rate is the median over {r['rounds']} processes of {r['windows_per_round']} windows each. Peak memory is "
        "each process's peak resident set size, which includes Python and torch after import (the baseline)."
    )
    ips, mem = r["images_per_s"], r["peak_memory"]
    lines = [
        row("pipeline", "images/s", "peak memory (RSS)", "of it, after imports"),
        "|---|---:|---:|---:|",
        *[
            row(
                name,
                f"{ips[name]:,.0f}",
                f"{mem[name]['peak_rss_mb']:,.0f} MB",
                f"{mem[name]['baseline_rss_mb']:,.0f} MB",
            )
            for name in ips
        ],
        row("ratio vaelib / seed-style", f"**{r['ratio']:.2f}x**", "", ""),
    ]
    return section(title, what, "\n".join(lines), f"Machine: {machine_line(r['machine'])}.")


def whole_process_section(r) -> str:
    title = "One whole training process"
    if r is None:
        return section(title, missing("whole_process"))
    what = (
        f"Wall seconds of one `vae-train --epochs {r['epochs']}` process with the defaults, start to exit, against the "
        "seed-style reference process (`benchmarks/seed_reference.py`: the seed's DataLoader + ToTensor pipeline, "
        "same split, same model, writing the same kinds of files). Each process starts fresh with its own temporary "
        "checkpoint folder; they take turns, and the ratio is the median over rounds of reference seconds / vaelib "
        "seconds. *Outside the epoch* is wall time minus the epoch's own seconds (from metrics.csv): imports, data "
        "loading, warm-up, writing files, exit."
        + (
            f" *main* is the same command from a checkout of commit {r['main']['commit']}, in the same rounds."
            if "main" in r
            else ""
        )
    )
    m = r["median"]
    lines = [row("process", "wall s", "epoch s", "outside the epoch s", "CPU s"), "|---|---:|---:|---:|---:|"]
    for name in m:
        v = m[name]
        cells = (f"{v['wall_s']:.2f}", f"{v['epoch_s']:.2f}", f"{v['outside_epoch_s']:.2f}", f"{v['cpu_s']:.2f}")
        lines.append(row(name, *cells))
    ratios = ", ".join(f"{x:.2f}" for x in r["ratios"])
    lines.append(row("ratio reference / vaelib", f"**{r['ratio_median']:.2f}x**", f"rounds: {ratios}", "", ""))
    if "main" in r:
        main_ratios = ", ".join(f"{x:.2f}" for x in r["main"]["ratios"])
        lines.append(
            row("ratio reference / main", f"{r['main']['ratio_median']:.2f}x", f"rounds: {main_ratios}", "", "")
        )
    return section(title, what, "\n".join(lines), f"Machine: {machine_line(r['machine'])}.")


def evaluation_section(results: dict) -> str:
    title = "The shipped models, evaluated"
    what = (
        "`vae-evaluate --json` on all 10,000 test images: the −ELBO with its two terms, in nats per image and bits per "
        "dimension, the importance-weighted bound with k samples per image, active units, and for samples from the "
        "prior the Fréchet distance to the test images in the 128 penultimate features of the project's classifier "
        "(beside it, the same distance for as many real training digits: the scale a perfect generator would reach), "
        "the class entropy and the classifier's mean confidence."
    )
    lines = [
        row("model", "test −ELBO (recon + KL)", "bits/dim", "IWAE bound", "active units", "Fréchet distance")
        + " class entropy | confidence | seconds |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    commands = []
    for name, r in results.items():
        if r is None:
            commands.append(missing(name))
            continue
        d = r["latent_dim"]
        lines.append(
            row(
                f"`{r['checkpoint'].rsplit('/', 1)[-1]}`",
                f"{r['neg_elbo']:.2f} ({r['recon']:.2f} + {r['kl']:.2f})",
                f"{r['neg_elbo_bpd']:.4f}",
                f"{r['iwae']:.2f} (k = {r['iwae_k']})",
                f"{r['active_units']} of {d}",
                f"{r['frechet_distance']:.2f} (real: {r['frechet_distance_real']:.2f})",
                f"{r['class_entropy']:.3f}",
                f"{r['mean_confidence']:.3f}",
                f"{r['seconds']:.0f}",
            )
        )
    return section(
        title,
        what,
        "\n".join(lines),
        " ".join(["The machine is not recorded in `vae-evaluate`'s JSON.", *commands]),
    )


def recognition_section(r) -> str:
    title = "Class-conditional digits"
    if r is None:
        return section(title, missing("recognition"))
    what = (
        "How often the project's classifier (its test accuracy: "
        f"{r['classifier_test_accuracy_percent']:.2f} %) recognises a generated digit as the class asked for "
        "(`vae-generate --digit D`, notebook 04), in percent: the class densities are fitted to the encoded first "
        f"{r['fit_images']:,} training images, {r['per_class']} digits per class, seed {r['seed']}. "
        "*typical* (the default of `vae-generate --digit`): the aggregate posterior of the class's typical images; "
        "*posterior*: of all its images; *gaussian*: one Gaussian per class over the encoder means."
    )
    lines = [row("model, class density", *map(str, range(10)), "mean"), "|---|" + "---:|" * 11]
    for model in r["models"].values():
        for kind, score in model["densities"].items():
            label = f"{model['latent_dim']}-D, {kind}"
            lines.append(row(label, *(f"{p:.0f}" for p in score["percent"]), f"**{score['mean_percent']:.1f}**"))
    return section(title, what, "\n".join(lines), f"Machine: {machine_line(r['machine'])}.")


def speed_section(folder: Path) -> str:
    title = "The tools' speed"
    lines = [row("measurement", "result", "conditions"), "|---|---|---|"]
    r = load(folder, "decode_latency")
    if r is None:
        lines.append(row("decode latency", missing("decode_latency"), ""))
    else:
        value = f"{r['decode_1_ms']:.2f} ms / {r['decode_100_ms']:.2f} ms"
        lines.append(row("decode latency, 1 z / 100 z", value, f"median of {r['reps']}; {machine_line(r['machine'])}"))
    r = load(folder, "explorer_latency")
    if r is None:
        lines.append(row("explorer slider update", missing("explorer_latency"), ""))
    else:
        value = f"{r['slider_median_ms']:.2f} ms median, {r['slider_p90_ms']:.2f} ms p90"
        where = f"{r['updates']} updates, target ≤ {r['target_ms']:.0f} ms; {machine_line(r['machine'])}"
        lines.append(row("explorer slider update (decode + PNG + marker)", value, where))
    r = load(folder, "iwae_speed")
    if r is None:
        lines.append(row("IWAE bound speed", missing("iwae_speed"), ""))
    else:
        rates = r["images_per_s"]
        value = f"{r['ratio']:.0%} ({rates['bound']:,.0f} / {rates['decoder']:,.0f} decoded images/s)"
        where = f"batch {r['batch_size']} x k {r['k']}, medians of {len(r['rounds']['bound'])}; "
        lines.append(row("IWAE bound speed / bare decoder speed", value, where + machine_line(r["machine"])))
    r = load(folder, "notebooks")
    if r is None:
        lines.append(row("notebook CI time", missing("notebooks"), ""))
    else:
        where = f"`{r['timed_command']}`; {machine_line(r['machine'])}"
        lines.append(row("notebook CI time", f"{r['seconds']:.0f} s", where))
    what = (
        "Decode latency: `model.decode(z)` for one z (a slider move in the latent explorer) and for 100. Explorer: "
        "one slider move in the kernel (decode, PNG, map marker), set from Python. IWAE speed: the importance-weighted "
        "bound's inner loop against a bare decoder pass on the same codes, taking turns. Notebook CI time: the six "
        "notebooks re-executed and compared by nbval in quick mode."
    )
    return section(title, what, "\n".join(lines))


KNOWN = set(COMMANDS)


def sources_section(folder: Path) -> str:
    """Every results file with the command that wrote it and its machine, the ones no section shows included."""
    lines = [row("file", "command", "machine"), "|---|---|---|"]
    for path in sorted(folder.glob("*.json")):
        r = json.loads(path.read_text())
        name = f"`{path.name}`" + ("" if path.stem in KNOWN else " (not shown above)")
        command = r["command"] if r["command"].startswith("none") else f"`{r['command']}`"
        lines.append(row(name, command, machine_line(r.get("machine"))))
    what = (
        "Each file in `benchmarks/results/` names the command that wrote it (`command`) and, when the script records "
        "it, the machine: the CPU with the vector features that decide its speed (AVX2, AVX-512, native bf16; rows "
        "without them ran before they were recorded), its cores, the torch threads, the torch version, the 1-minute "
        "load average when it started (these are shared 2-core VMs: a load above 2 means other jobs competed) and "
        "the date. No GPU was available for any of these measurements, so there are no GPU figures; compare speeds "
        "only within a section, on one machine."
    )
    return section("Sources and machines", what, "\n".join(lines))


def page(folder: Path = machine.RESULTS) -> str:
    head = (
        "# Results\n\n"
        "Measured numbers of this project. This page is written by `python benchmarks/report.py --write` (`make "
        "results`) from the JSON files in `benchmarks/results/`: nothing on it is typed by hand, and "
        "`tests/test_results.py` fails when it differs from what report.py writes now. The scripts that measure are "
        "in `benchmarks/` (its README says how to run them on a quiet machine)."
    )
    parts = [
        head,
        expected_section(folder),
        beta_section(load(folder, "beta_models")),
        curves_section(load(folder, "learning_curves")),
        ttq_section(load(folder, "time_to_quality")),
        throughput_section(load(folder, "throughput")),
        whole_process_section(load(folder, "whole_process")),
        evaluation_section({name: load(folder, name) for name in ("evaluate_latent2", "evaluate_latent16")}),
        recognition_section(load(folder, "recognition")),
        speed_section(folder),
        sources_section(folder),
    ]
    return "\n\n".join(parts) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "results",
        nargs="?",
        type=Path,
        default=machine.RESULTS,
        help="folder of JSON results (default benchmarks/results)",
    )
    p.add_argument("--write", action="store_true", help=f"write {PAGE.name} beside this script instead of printing")
    args = p.parse_args()
    text = page(args.results)
    if args.write:
        PAGE.write_text(text)
        print(f"Wrote {PAGE}", file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
