"""Tables of the notebooks: the model's layers as a real forward pass sees them."""

import torch

from vaelib.core.model import IMAGE_SHAPE, evaluating


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
