"""A small LeNet-style MNIST classifier: the "judge" that scores generated digits.

Its penultimate-layer features give the Fréchet distance between generated and real digits, and its
predictions give the class entropy and confidence of samples (see metrics.py and evaluate.py).
Train it once with `vae-classifier` (or `python -m vaelib.classifier`); the weights are committed as
checkpoints/pretrained/classifier.pth, so learners never need to.
"""

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import settings
from .checkpoint import save_checkpoint
from .data import Split, batches, load_mnist, num_batches
from .device import describe, pick_device
from .errors import ArgumentParser, VAEError, cli_errors, positive

FILE_NAME = "classifier.pth"
FEATURE_DIM = 128  # size of the penultimate layer, the space the Fréchet distance lives in
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # MNIST training-set statistics, to centre the inputs
QUICK_IMAGES = 2048


class Classifier(nn.Module):
    """LeNet-5 widened a little: two conv + pool blocks, then 128 features, then 10 logits."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(  # input (B, 1, 28, 28) in [0, 1]
            nn.Conv2d(1, 16, 5, padding=2),  # (B, 16, 28, 28)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 16, 14, 14)
            nn.Conv2d(16, 32, 5),  # (B, 32, 10, 10)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 5, 5)
            nn.Flatten(),  # (B, 800)
            nn.Linear(32 * 5 * 5, FEATURE_DIM),  # (B, 128)
            nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, 10)  # (B, 10) logits

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer activations, (B, 128)."""
        return self.body((x - PIXEL_MEAN) / PIXEL_STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, (B, 10)."""
        return self.head(self.features(x))


def default_path() -> Path:
    """The committed classifier weights."""
    return settings.pretrained_dir() / FILE_NAME


def load_classifier(path=None, device="cpu") -> Classifier:
    """The trained classifier (default: the committed one) in eval mode on `device`."""
    path = Path(path or default_path())
    if not path.is_file():
        raise VAEError(f"classifier weights not found: {path}; train them with `vae-classifier` (about two minutes on a CPU)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = Classifier()
        model.load_state_dict(ckpt["model_state"])
    except Exception as err:
        raise VAEError(f"{path} is not a vaelib classifier or is corrupt ({type(err).__name__}); re-train it with `vae-classifier`") from None
    return model.to(device).eval()


@torch.no_grad()
def _map_batches(fn, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """fn applied to `images` in chunks (so 10,000 images do not need one huge activation tensor)."""
    return torch.cat([fn(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def features(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate-layer features (N, 128) of images (N, 1, 28, 28) in [0, 1], computed on the model's device."""
    device = next(model.parameters()).device
    return _map_batches(lambda x: model.features(x.to(device)).cpu(), images, batch_size)


def predict_proba(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities (N, 10) of images (N, 1, 28, 28) in [0, 1]."""
    device = next(model.parameters()).device
    return _map_batches(lambda x: F.softmax(model(x.to(device)), dim=1).cpu(), images, batch_size)


def predict(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted digit (N,) of each image."""
    return predict_proba(model, images, batch_size).argmax(dim=1)


def accuracy(model: Classifier, split: Split) -> float:
    """Fraction of `split` classified correctly."""
    return (predict(model, split.images) == split.labels.cpu()).float().mean().item()


def train_classifier(train: Split, epochs: int = 4, batch_size: int = 128, learning_rate: float = 3e-3, seed: int = 0, device="cpu") -> Classifier:
    """Adam with a one-cycle schedule over `epochs` passes of `train`; returns the model in eval mode."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train = train.to(device)
    model = Classifier().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = epochs * num_batches(train, batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=steps)
    model.train()
    with tqdm(total=steps, desc="training classifier", mininterval=0.5) as bar:
        for _ in range(epochs):
            for batch in batches(train, batch_size, shuffle=True, generator=generator):
                loss = F.cross_entropy(model(batch.images), batch.labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    return model.eval()


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="vae-classifier", description="Train the small MNIST classifier used to score generated digits.")
    p.add_argument("--epochs", type=positive(int), default=4, help="passes over the 55,000 training images (default 4)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--output", help=f"where to write the weights (default: checkpoints/pretrained/{FILE_NAME}; in quick mode $VAELIB_CHECKPOINT_DIR/{FILE_NAME})")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--data-dir", help="MNIST root, holding MNIST/raw/ (default: $VAELIB_DATA_DIR or ./data)")
    p.add_argument("--quick", action="store_true", help=f"smoke test: {QUICK_IMAGES} training images, 1 epoch (also: VAELIB_QUICK=1)")
    return p


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    quick = args.quick or settings.quick_mode()
    output = Path(args.output) if args.output else (settings.checkpoint_dir() if quick else settings.pretrained_dir()) / FILE_NAME
    device = pick_device(args.device)
    print(f"Using device: {describe(device)}")
    data = load_mnist(args.data_dir)
    train = data.train.head(QUICK_IMAGES) if quick else data.train
    epochs = 1 if quick else args.epochs
    start = time.perf_counter()
    model = train_classifier(train, epochs=epochs, seed=args.seed, device=device)
    seconds = time.perf_counter() - start
    val_acc, test_acc = accuracy(model, data.val.to(device)), accuracy(model, data.test.to(device))
    payload = {
        "model_state": {k: v.cpu() for k, v in model.state_dict().items()},
        "train_images": len(train),
        "epochs": epochs,
        "seed": args.seed,
        "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "torch_version": str(torch.__version__),
    }
    save_checkpoint(payload, output)
    print(f"Trained on {len(train):,} images for {epochs} epochs in {seconds:.0f} s: "
          f"validation accuracy {val_acc:.2%}, test accuracy {test_acc:.2%}")
    print(f"Saved {output}")


if __name__ == "__main__":
    main()
