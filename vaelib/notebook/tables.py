"""Tables of the notebooks: the model's layers as a real forward pass sees them, and what number to expect."""

import json
import re
from pathlib import Path

import torch

from vaelib.core.errors import VAEError
from vaelib.core.model import IMAGE_SHAPE, evaluating
from vaelib.core.settings import project_root

EXPECTED_NUMBERS = ("benchmarks", "results", "expected_numbers.json")  # under the repository root
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)(?::([^{}]*))?\}")  # {row_id.key.0.key:.2f}


def layer_table(model, batch_size: int = 1) -> list[dict]:
    """One row per layer of a real forward pass (eval mode): name, type, output shape and parameter count.

    Taken with forward hooks from the model itself, so the table can never disagree with the code.
    """
    rows = [{"layer": "x", "type": "input", "output": (batch_size, *IMAGE_SHAPE), "params": 0}]

    def record(name):
        def hook(module, inputs, output):
            params = sum(p.numel() for p in module.parameters())
            rows.append({"layer": name, "type": type(module).__name__, "output": tuple(output.shape), "params": params})

        return hook

    leaves = [(name, module) for name, module in model.named_modules() if name and not list(module.children())]
    handles = [module.register_forward_hook(record(name)) for name, module in leaves]
    try:
        with evaluating(model):
            out = model(torch.zeros(batch_size, *IMAGE_SHAPE, device=next(model.parameters()).device))
    finally:
        for handle in handles:
            handle.remove()
    after = next(i for i, row in enumerate(rows) if row["layer"] == "fc_log_var") + 1
    rows.insert(after, {"layer": "z", "type": "reparameterize", "output": tuple(out.z.shape), "params": 0})
    return rows


def format_layer_table(rows: list[dict]) -> str:
    """The layer table as aligned text, batch dimension written B, with the total parameter count."""
    lines = [f"{'layer':<14}{'type':<16}{'output shape':<20}{'parameters':>11}"]
    for row in rows:
        shape = "(" + ", ".join(["B", *map(str, row["output"][1:])]) + ")"
        lines.append(f"{row['layer']:<14}{row['type']:<16}{shape:<20}{row['params']:>11,}")
    lines.append(f"{'total':<50}{sum(row['params'] for row in rows):>11,}")
    return "\n".join(lines)


def expected_numbers_table(path=None) -> str:
    """The "What number should I expect?" table, with its notes, as Markdown, from its one source file.

    `path` defaults to benchmarks/results/expected_numbers.json in the repository (vaelib.core.settings.project_root()).
    Every number in the text is a value of the file: a placeholder `{id.key:format}` names a row by its id (or a key
    of the file, or another results file beside it, by its name without .json) and a key path inside it.
    """
    path = Path(path) if path else project_root().joinpath(*EXPECTED_NUMBERS)
    if not path.is_file():
        raise VAEError(f"{path} not found: the table's source is benchmarks/results/ of a checkout of this project")
    source = json.loads(path.read_text())
    rows = {row["id"]: row for row in source["rows"]}

    def lookup(name: str):
        head, *keys = name.split(".")
        if head in rows:
            value = rows[head]
        elif head in source:
            value = source[head]
        else:
            value = json.loads((path.parent / f"{head}.json").read_text())
        for key in keys:
            value = value[int(key)] if isinstance(value, list) else value[key]
        return value

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: format(lookup(m.group(1)), m.group(2) or ""), text)

    def bound(b: dict) -> str:
        se = f" ± {b['se']:.2f}" if b.get("se") is not None else ""
        text = f"{b['value']:.2f}{se} ({b['k']}" + (f", {b['note']}" if b.get("note") else "") + ")"
        return f"**{text}**" if b.get("bold") else text

    lines = [
        "| data | latent | architecture | epochs | test −ELBO | IWAE bound (k) | source |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for row in source["rows"]:
        epochs = f"{row['epochs']:,}" if isinstance(row["epochs"], int) else row["epochs"]
        neg_elbo = "" if row["neg_elbo"] is None else f"{row['neg_elbo']:.2f}"
        if neg_elbo and row.get("neg_elbo_note"):
            neg_elbo += f" ({row['neg_elbo_note']})"
        where = fill(row["source"]) + (
            f"; trained and scored with vaelib at commit {row['commit']}" if "commit" in row else ""
        )
        cells = [row["data"], str(row["latent"]), fill(row["architecture"]), epochs, neg_elbo]
        cells += [", ".join(bound(b) for b in row["bounds"]), where]
        lines.append("| " + " | ".join(cells) + " |")
    parts = [
        fill(" ".join(source["intro"])),
        "\n".join(lines),
        fill(" ".join(source["footnotes"])),
        source["notes_title"],
        "\n".join(f"- {fill(note)}" for note in source["notes"]),
    ]
    return "\n\n".join(parts) + "\n"
