"""The convolutional VAE: encoder, decoder, reparameterisation trick and the negative ELBO."""

import contextlib
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
PIXELS = 28 * 28


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the model; saved with every checkpoint."""

    latent_dim: int = 2
    dropout: float = 0.25
    negative_slope: float = 0.01  # LeakyReLU

    def __post_init__(self):
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {self.latent_dim}")

    def to_dict(self) -> dict:
        return asdict(self)


class Losses(NamedTuple):
    """Batch means in nats per image: what training minimises, the true negative ELBO, and their two parts.

    objective = recon + beta * KL (the loss that is trained); neg_elbo = recon + KL (the bound, beta = 1).
    They are equal when beta = 1.
    """

    objective: torch.Tensor
    neg_elbo: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


class VAEOutput(NamedTuple):
    """What one forward pass produces: decoder logits, the posterior's parameters and the sampled z."""

    logits: torch.Tensor
    mu: torch.Tensor
    log_var: torch.Tensor
    z: torch.Tensor


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per image: binary cross-entropy summed over the 784 pixels, computed from logits for stability."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="none")
    return bce.flatten(1).sum(dim=1)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(log_var)) || N(0, I) ) per image, in closed form."""
    mu, log_var = mu.float(), log_var.float()
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1)


def negative_elbo(logits, x, mu, log_var, beta: float = 1.0) -> Losses:
    """Batch means of the objective recon + beta * KL and of the negative ELBO recon + KL, in nats per image."""
    recon = bernoulli_nll(logits, x).mean()
    kl = kl_to_standard_normal(mu, log_var).mean()
    return Losses(recon + beta * kl, recon + kl, recon, kl)


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, generator=None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample that gradients can flow through."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * log_var) * eps


class CheapMaskDropout(nn.Dropout):
    """nn.Dropout with the same maths, but its mask comes from torch.rand_like, about 3x cheaper on a CPU
    than the bernoulli_ call inside nn.Dropout (dropout was ~15% of a CPU training step)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep.to(x.dtype) * (1.0 / (1.0 - self.p))


class VAE(nn.Module):
    """Convolutional VAE for 28x28 grayscale digits in [0, 1]."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        slope, p, latent = config.negative_slope, config.dropout, config.latent_dim
        self.encoder = nn.Sequential(  # input (B, 1, 28, 28)
            nn.Conv2d(1, 32, 3, stride=2, padding=1),  # (B, 32, 14, 14)
            nn.BatchNorm2d(32),
            nn.LeakyReLU(slope),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),  # (B, 64, 7, 7)
            nn.BatchNorm2d(64),
            nn.LeakyReLU(slope),
            CheapMaskDropout(p),
            nn.Flatten(),  # (B, 3136)
        )
        self.fc_mu = nn.Linear(64 * 7 * 7, latent)  # (B, latent)
        self.fc_log_var = nn.Linear(64 * 7 * 7, latent)  # (B, latent)
        self.decoder = nn.Sequential(  # input (B, latent)
            nn.Linear(latent, 64 * 7 * 7),  # (B, 3136)
            nn.Unflatten(1, (64, 7, 7)),  # (B, 64, 7, 7)
            CheapMaskDropout(p),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),  # (B, 32, 14, 14)
            nn.BatchNorm2d(32),
            nn.LeakyReLU(slope),
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),  # (B, 1, 28, 28) logits
        )  # the Sigmoid is applied in decode(); the loss uses the logits directly, which is stabler

    def encode(self, x: torch.Tensor):
        """Parameters of q(z|x): (mu, log_var), each (B, latent_dim)."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_log_var(h)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p(x|z), (B, 1, 28, 28)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities in [0, 1], (B, 1, 28, 28)."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> VAEOutput:
        mu, log_var = self.encode(x)
        z = reparameterize(mu, log_var)
        return VAEOutput(self.decode_logits(z), mu, log_var, z)

    def loss(self, x: torch.Tensor, beta: float = 1.0) -> Losses:
        """Negative ELBO of a batch (one z sample per image)."""
        out = self(x)
        return negative_elbo(out.logits, x, out.mu, out.log_var, beta)

    def sample(self, n: int, generator=None) -> torch.Tensor:
        """n images decoded from z ~ N(0, I), (n, 1, 28, 28) in [0, 1], in eval mode.

        z is drawn on the CPU (with `generator`, a CPU torch.Generator): a seed gives the same digits on every device.
        """
        z = torch.randn(n, self.config.latent_dim, generator=generator)
        with evaluating(self):
            return self.decode(z.to(next(self.parameters()).device))


@contextlib.contextmanager
def evaluating(model: nn.Module):
    """Run a block in eval mode (dropout off, BatchNorm on its running statistics) without gradients,
    then put the model back in the mode it was in. Every evaluation in vaelib goes through here."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
