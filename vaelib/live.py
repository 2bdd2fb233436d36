"""Live training pictures for notebooks: an on_epoch callback that redraws figures in place.

live = LiveTraining(data.val.images[:10])
vaelib.fit(config, on_epoch=live)   # loss curves and reconstructions update after every epoch
"""

import torch
from IPython.display import display

from . import plots


class LiveTraining:
    """Called as on_epoch(row, model) by vaelib.fit: keeps the epoch rows and a reconstruction per epoch.

    The first call displays the loss curves and the reconstruction history; later calls replace them
    through display handles, so the notebook shows two pictures that grow, not one per epoch.
    """

    def __init__(self, images: torch.Tensor, rows: list[dict] | None = None):
        self.images = images.detach().cpu()  # (N, 1, 28, 28) digits to reconstruct after every epoch
        self.rows = list(rows or [])
        self.snapshots: list[tuple[int, torch.Tensor]] = []  # (epoch, reconstructions (N, 1, 28, 28))
        self._handles = None

    def __call__(self, row: dict, model) -> None:
        self.rows.append(row)
        device = next(model.parameters()).device
        recon = plots.reconstructions(model, self.images.to(device))[len(self.images) :].cpu()
        self.snapshots.append((row["epoch"], recon))
        figures = self.figures()
        if self._handles is None:
            self._handles = [display(fig, display_id=True) for fig in figures]
        else:
            for handle, fig in zip(self._handles, figures, strict=True):
                handle.update(fig)

    def figures(self):
        """(loss curves, reconstruction history) as they stand now."""
        return plots.loss_figure(self.rows), plots.reconstruction_history_figure(self.images, self.snapshots)
