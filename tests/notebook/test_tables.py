"""The notebooks' layer table: taken from a real forward pass, it counts every parameter."""

import torch

from vaelib.core.model import VAE
from vaelib.notebook import tables


def test_layer_table_counts_every_parameter():
    """One row per layer of a real forward pass: the parameters add up to the model's, the shapes are the documented
    ones, z sits right after fc_log_var; the model stays in training mode."""
    torch.manual_seed(0)
    model = VAE().train()
    table = tables.layer_table(model, batch_size=3)
    assert model.training
    assert sum(row["params"] for row in table) == sum(p.numel() for p in model.parameters())
    by_name = {row["layer"]: row for row in table}
    assert by_name["x"]["output"] == (3, 1, 28, 28) and by_name["encoder.7"]["output"] == (3, 3136)
    assert by_name["fc_mu"]["output"] == by_name["z"]["output"] == (3, 2)
    assert by_name["decoder.6"]["output"] == (3, 1, 28, 28)
    names = [row["layer"] for row in table]
    assert names.index("z") == names.index("fc_log_var") + 1
    assert tables.format_layer_table(table).splitlines()[-1].split()[-1] == f"{sum(r['params'] for r in table):,}"
