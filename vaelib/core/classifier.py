"""A small LeNet-style MNIST classifier: the "judge" that scores generated digits.

Its penultimate-layer features give the Fréchet distance between generated and real digits, and its
predictions give the class entropy and confidence of samples (measures.py, scorecard.py). It was trained once with
`vae-classifier` (vaelib/commands/train_classifier.py); the weights ship inside the package
(vaelib/weights/classifier.pth), so learners never need to.
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from . import settings
from .data import Digits, batches, num_batches
from .errors import VAEError
from .model import evaluating

FILE_NAME = "classifier.pth"
FEATURE_DIM = 128  # size of the penultimate layer, the space the Fréchet distance lives in
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # MNIST training-set statistics, to centre the inputs
EPOCHS = 4
QUICK_CLASSIFIER = {"epochs": 1, "train_images": 2048}  # quick mode: a smoke test in seconds


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
    """The classifier weights shipped inside the package."""
    return settings.weights_dir() / FILE_NAME


def load_classifier(path=None, device="cpu") -> Classifier:
    """The trained classifier (default: the committed one) in eval mode on `device`."""
    path = Path(path or default_path())
    if not path.is_file():
        raise VAEError(
            f"classifier weights not found: {path}; train them with `vae-classifier` (about two minutes on a CPU)"
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = Classifier()
        model.load_state_dict(ckpt["model_state"])
    except Exception as err:
        raise VAEError(
            f"{path} is not a vaelib classifier or is corrupt ({type(err).__name__}); re-train it with `vae-classifier`"
        ) from None
    return model.to(device).eval()


def _map_batches(model: Classifier, fn, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """fn(x on the model's device) over `images` in chunks, in eval mode (10,000 images need no huge activations)."""
    device = next(model.parameters()).device
    with evaluating(model):
        return torch.cat([fn(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])


def image_features(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate-layer features (N, 128) of images (N, 1, 28, 28) in [0, 1], computed on the model's device."""
    return _map_batches(model, model.features, images, batch_size)


def predict_proba(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities (N, 10) of images (N, 1, 28, 28) in [0, 1]."""
    return _map_batches(model, lambda x: F.softmax(model(x), dim=1), images, batch_size)


def predict(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted digit (N,) of each image."""
    return predict_proba(model, images, batch_size).argmax(dim=1)


def accuracy(model: Classifier, digits: Digits) -> float:
    """Fraction of `digits` classified correctly."""
    return (predict(model, digits.images) == digits.labels.cpu()).float().mean().item()


def fit_classifier(
    train: Digits, epochs: int = EPOCHS, batch_size: int = 128, learning_rate: float = 3e-3, seed: int = 0, device="cpu"
) -> Classifier:
    """Adam with a one-cycle schedule over `epochs` passes of `train`; returns the model in eval mode."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train = train.to(device)
    model = Classifier().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = epochs * num_batches(train, batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=steps)
    model.train()
    with tqdm(total=steps, desc="training classifier", mininterval=0.5, disable=None) as bar:  # terminal only
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
