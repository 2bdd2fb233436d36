"""Live training pictures: LiveTraining keeps the rows and a reconstruction per epoch, and redraws in place."""

import torch
from matplotlib.figure import Figure

from vaelib.core import latent
from vaelib.core.model import VAE
from vaelib.notebook import live


def row(epoch: int) -> dict:
    values = {f"{split}_{name}": 100.0 - epoch for split in ("train", "val") for name in ("objective", "neg_elbo")}
    return {"epoch": epoch, **values, "train_recon": 90.0, "train_kl": 5.0, "val_recon": 88.0, "val_kl": 4.0}


def test_live_training_keeps_rows_and_reconstructions(monkeypatch):
    """The first call displays two figures; later calls update those two handles instead of adding pictures."""
    shown, updates = [], []

    class Handle:
        def update(self, fig):
            updates.append(fig)

    def display(fig, display_id):
        shown.append(fig)
        return Handle()

    monkeypatch.setattr(live, "display", display)
    torch.manual_seed(0)
    model = VAE().train()
    images = torch.rand(3, 1, 28, 28)
    watcher = live.LiveTraining(images)
    for epoch in (1, 2, 3):
        watcher(row(epoch), model)
    assert len(shown) == 2 and len(updates) == 4 and all(isinstance(f, Figure) for f in shown + updates)
    assert [r["epoch"] for r in watcher.rows] == [1, 2, 3] and [e for e, _ in watcher.snapshots] == [1, 2, 3]
    torch.testing.assert_close(watcher.snapshots[-1][1], latent.reconstruct(model, images))
    assert model.training
