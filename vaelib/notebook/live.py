"""Live training pictures for notebooks: an on_epoch callback that redraws figures in place.

live = LiveTraining(mnist.val.images[:10])
fit(config, on_epoch=live)   # vaelib.runs.run.fit: loss curves and reconstructions update after every epoch
"""

import torch
from IPython.display import display

from vaelib.core.latent import reconstruct
from vaelib.runs.images import loss_figure

from .figures import reconstruction_history_figure


class LiveTraining:
    """Called as on_epoch(row, model) by fit: keeps the epoch rows and a reconstruction per epoch.

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
        self.snapshots.append((row["epoch"], reconstruct(model, self.images)))
        figures = self.figures()
        if self._handles is None:
            self._handles = [display(fig, display_id=True) for fig in figures]
        else:
            for handle, fig in zip(self._handles, figures, strict=True):
                handle.update(fig)

    def figures(self):
        """(loss curves, reconstruction history) as they stand now."""
        return loss_figure(self.rows), reconstruction_history_figure(self.images, self.snapshots)
