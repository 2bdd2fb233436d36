"""The seed-style reference for `vae-train --epochs N`: the textbook script that whole_process.py times vaelib against.

    VAELIB_DATA_DIR=/path/to/data python benchmarks/seed_reference.py --epochs 1 --checkpoint-dir /tmp/ref

It trains what the seed (commit c018744, `vae-train` with its defaults) trained and writes the files it wrote,
but on the seed-style pipeline and without vaelib:

- data: torchvision's MNIST + ToTensor + DataLoader, batch 128, shuffled; the same split as vaelib.data
  (randperm of the 60,000 training images with seed 0, the first 5,000 held out for validation);
- model: a copy of vaelib.model.VAE, layer for layer, with its rand_like dropout mask, so a step costs what
  vaelib's costs in the same layout (contiguous fp32, as in throughput.py's seed-style pipeline). It is copied,
  not imported: importing vaelib would add vaelib's own fixed costs to the reference;
- training: seed 0, Adam at 1e-4, the negative ELBO (Bernoulli reconstruction + KL, nats per image);
- validation once per epoch over the 5,000 held-out images (DataLoader, batch 1000, one seeded z per image);
- files: config.json and last.pth (epoch 0) first; after every epoch last.pth, best.pth when it improved,
  checkpoint_epoch_NNNN.pth every 10th epoch, metrics.csv, loss.png and reconstructions_epoch_NNNN.png (epoch 1,
  every 10th, the last); at the end vae_final.pth and, if it beats the one there, best_model/vae_best.pth.
  Each is written to a temporary file, fsynced and renamed, as the seed's atomic_write did.
"""

import argparse
import csv
import io
import json
import os
import time
from datetime import datetime
from pathlib import Path

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision.datasets import MNIST
from torchvision.transforms import ToTensor
from torchvision.utils import save_image

FIELDS = ("epoch", "train_loss", "train_recon", "train_kl", "val_loss", "val_recon", "val_kl", "seconds")


class Dropout(nn.Dropout):
    """nn.Dropout with its mask drawn by rand_like, as vaelib.model.CheapMaskDropout."""

    def forward(self, x):
        return x * (torch.rand_like(x) >= self.p).to(x.dtype) / (1 - self.p) if self.training else x


class VAE(nn.Module):
    def __init__(self, latent_dim=2, p=0.25, slope=0.01):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(slope),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.LeakyReLU(slope),
            Dropout(p), nn.Flatten(),
        )  # fmt: skip
        self.fc_mu, self.fc_log_var = nn.Linear(3136, latent_dim), nn.Linear(3136, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 3136), nn.Unflatten(1, (64, 7, 7)), Dropout(p),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(32),
            nn.LeakyReLU(slope), nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),
        )  # fmt: skip

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_log_var(h)

    def loss(self, x, generator=None):
        """Batch means of the negative ELBO, its reconstruction term and its KL term (nats per image)."""
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator)
        recon = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").flatten(1).sum(1).mean()
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
        return recon + kl, recon, kl


def write(path: Path, data: io.BytesIO) -> None:
    """Write data to a temporary file beside path, fsync it, rename it over path."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data.getbuffer())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def loss_figure(rows) -> Figure:
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    for ax, key in zip(fig.subplots(1, 3), ("loss", "recon", "kl"), strict=True):
        for split in ("train", "val"):
            ax.plot([r["epoch"] for r in rows], [r[f"{split}_{key}"] for r in rows], marker=".", label=split)
        ax.set(title=key, xlabel="epoch", ylabel="nats per image")
    ax.legend()
    return fig


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--data-dir", default=os.environ.get("VAELIB_DATA_DIR", "data"))
    p.add_argument("--checkpoint-dir", default="checkpoints")
    args = p.parse_args()
    batch_size, save_every, seed = 128, 10, 0

    torch.manual_seed(seed)
    data = MNIST(args.data_dir, train=True, transform=ToTensor())
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))  # vaelib.data's split
    shuffle = torch.Generator().manual_seed(seed)
    train = DataLoader(Subset(data, order[5000:].tolist()), batch_size=batch_size, shuffle=True, generator=shuffle)
    val = DataLoader(Subset(data, order[:5000].tolist()), batch_size=1000)
    shown = torch.stack([data[i][0] for i in order[:10].tolist()])
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    run_dir = Path(args.checkpoint_dir) / datetime.now().strftime("run_%Y%m%d_%H%M%S_%f")
    run_dir.mkdir(parents=True)
    config = {"epochs": args.epochs, "batch_size": batch_size, "learning_rate": 1e-4, "seed": seed}
    write(run_dir / "config.json", io.BytesIO(json.dumps(config, indent=2).encode()))
    rows, best = [], float("inf")

    def save(name):
        state = {
            "model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(), "config": config,
            "epoch": len(rows), "metrics": rows, "val_loss": rows[-1]["val_loss"] if rows else float("inf"),
            "rng_state": {"torch": torch.get_rng_state(), "shuffle": shuffle.get_state()},
        }  # fmt: skip
        torch.save(state, buf := io.BytesIO())
        write(run_dir / name, buf)

    save("last.pth")
    for epoch in range(1, args.epochs + 1):
        start, sums, seen = time.perf_counter(), torch.zeros(3, dtype=torch.float64), 0
        model.train()
        for x, _ in train:
            losses = model.loss(x)
            optimizer.zero_grad()
            losses[0].backward()
            optimizer.step()
            sums += torch.stack(losses).detach().double() * len(x)
            seen += len(x)
        model.eval()
        val_sums, noise = torch.zeros(3, dtype=torch.float64), torch.Generator().manual_seed(0)
        with torch.no_grad():
            for x, _ in val:
                val_sums += torch.stack(model.loss(x, noise)).double() * len(x)
            recon = torch.sigmoid(model.decoder(model.encode(shown)[0]))
        means = [epoch, *(sums / seen).tolist(), *(val_sums / len(val.dataset)).tolist(), time.perf_counter() - start]
        rows.append(dict(zip(FIELDS, means, strict=True)))
        train_loss, val_loss = rows[-1]["train_loss"], rows[-1]["val_loss"]
        print(f"epoch {epoch}/{args.epochs}  train −ELBO {train_loss:.2f}  val −ELBO {val_loss:.2f}", flush=True)

        save("last.pth")
        if val_loss < best:
            best = val_loss
            save("best.pth")
        if epoch % save_every == 0:
            save(f"checkpoint_epoch_{epoch:04d}.pth")
        writer = csv.DictWriter(table := io.StringIO(), FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        write(run_dir / "metrics.csv", io.BytesIO(table.getvalue().encode()))
        loss_figure(rows).savefig(buf := io.BytesIO(), format="png", dpi=100)
        write(run_dir / "loss.png", buf)
        if epoch == 1 or epoch % save_every == 0 or epoch == args.epochs:
            save_image(torch.cat([shown, recon]), buf := io.BytesIO(), format="png", nrow=10, pad_value=1.0)
            write(run_dir / f"reconstructions_epoch_{epoch:04d}.png", buf)
    save("vae_final.pth")
    best_file = Path(args.checkpoint_dir) / "best_model" / "vae_best.pth"
    if not best_file.exists() or best < torch.load(best_file, weights_only=True)["val_loss"]:
        best_file.parent.mkdir(exist_ok=True)
        write(best_file, io.BytesIO((run_dir / "best.pth").read_bytes()))
    print(f"Finished {args.epochs} epochs in {run_dir}, best val -ELBO {best:.2f}")


if __name__ == "__main__":
    main()
