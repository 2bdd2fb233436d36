"""The convolutional VAE: a Gaussian encoder q(z|x), a decoder p(x|z), the negative ELBO, and one training step.

The pixel likelihood p(x|z) lives in likelihood.py; the Gaussian densities of the codes (the prior p(z) = N(0, I) and
the encoder's q(z|x)) live here.
"""

import contextlib
import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn

from . import likelihood
from .errors import VAEError

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
    """Batch means in nats per image: what training minimises, the true negative ELBO, and its two terms.

    objective = recon + β·KL (the loss that is trained); neg_elbo = recon + KL (the bound itself, β = 1).
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


class CheapMaskDropout(nn.Dropout):
    """nn.Dropout's maths with a mask from torch.rand_like, cheaper on a CPU than the bernoulli_ inside nn.Dropout
    (notebook 02 shows the model with plain nn.Dropout and times both on the machine that runs it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep.to(x.dtype) * (1.0 / (1.0 - self.p))


class VAE(nn.Module):
    """Convolutional VAE for 28x28 grey digits in [0, 1]."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        slope, p, latent = config.negative_slope, config.dropout, config.latent_dim
        self.encoder = nn.Sequential(  # input (B, 1, 28, 28)
            nn.Conv2d(1, 32, 3, stride=2, padding=1),  # (B, 32, 14, 14)
            nn.BatchNorm2d(32),  # (B, 32, 14, 14)
            nn.LeakyReLU(slope),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, stride=2, padding=1),  # (B, 64, 7, 7)
            nn.BatchNorm2d(64),  # (B, 64, 7, 7)
            nn.LeakyReLU(slope),  # (B, 64, 7, 7)
            CheapMaskDropout(p),  # (B, 64, 7, 7)
            nn.Flatten(),  # (B, 3136)
        )
        self.fc_mu = nn.Linear(64 * 7 * 7, latent)  # (B, latent)
        self.fc_log_var = nn.Linear(64 * 7 * 7, latent)  # (B, latent)
        self.decoder = nn.Sequential(  # input (B, latent)
            nn.Linear(latent, 64 * 7 * 7),  # (B, 3136)
            nn.Unflatten(1, (64, 7, 7)),  # (B, 64, 7, 7)
            CheapMaskDropout(p),  # (B, 64, 7, 7)
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),  # (B, 32, 14, 14)
            nn.BatchNorm2d(32),  # (B, 32, 14, 14)
            nn.LeakyReLU(slope),  # (B, 32, 14, 14)
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),  # (B, 1, 28, 28) logits
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x): (mu, log_var), each (B, latent_dim)."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_log_var(h)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The logits of p(x|z), (B, 1, 28, 28); the loss uses them directly, which is stabler than probabilities."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z): pixel probabilities in [0, 1], (B, 1, 28, 28)."""
        return likelihood.mean(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> VAEOutput:
        mu, log_var = self.encode(x)
        z = reparameterize(mu, log_var)
        return VAEOutput(self.decode_logits(z), mu, log_var, z)

    def loss(self, x: torch.Tensor, beta: float = 1.0, free_bits: float = 0.0) -> Losses:
        """The batch's negative ELBO and objective, with one z sample per image."""
        out = self(x)
        return negative_elbo(out.logits, x, out.mu, out.log_var, beta, free_bits)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images decoded from z ~ N(0, I) in eval mode, (n, 1, 28, 28) in [0, 1] on the CPU, 1,000 at a time.

        z is drawn on the CPU (with `generator`, a CPU torch.Generator): a seed gives the same digits on every device.
        """
        z = torch.randn(n, self.config.latent_dim, generator=generator)
        device = next(self.parameters()).device
        with evaluating(self):
            return torch.cat([self.decode(chunk.to(device)).float().cpu() for chunk in z.split(1000)])


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, generator=None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample of q(z|x) that gradients can flow through."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * log_var) * eps


def gaussian_log_prob(z: torch.Tensor, mu=0.0, log_var=0.0) -> torch.Tensor:
    """log N(z; mu, diag exp(log_var)) summed over the last dimension: the prior p(z) with the defaults, q(z|x) else.

    log N = -½ Σ_j [log 2π + log σ_j² + (z_j - μ_j)² / σ_j²]
    """
    log_var = torch.as_tensor(log_var, dtype=z.dtype, device=z.device)
    terms = math.log(2 * math.pi) + log_var + (z - mu).pow(2) * torch.exp(-log_var)
    return -0.5 * terms.sum(dim=-1)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(log_var)) ‖ N(0, 1)) of each dimension in closed form, ½(μ² + σ² - 1 - log σ²): (B, D)."""
    mu, log_var = mu.float(), log_var.float()
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)


def negative_elbo(logits, x, mu, log_var, beta: float = 1.0, free_bits: float = 0.0) -> Losses:
    """Batch means in nats per image: recon = -log p(x|z), KL = KL(q(z|x) ‖ p(z)), and the objective recon + β·KL.

    With free bits λ (Kingma et al. 2016) the objective charges each dimension j max(λ, KL_j), KL_j its batch mean:
    a dimension that carries less than λ nats costs the same whatever it carries.
    """
    recon = -likelihood.log_prob(logits, x).mean()
    kl_each = kl_to_standard_normal(mu, log_var)  # (B, D)
    kl = kl_each.sum(dim=1).mean()
    charged = kl_each.mean(dim=0).clamp(min=free_bits).sum() if free_bits else kl
    return Losses(recon + beta * charged, recon + kl, recon, kl)


class NonFiniteLoss(VAEError):
    """The loss became NaN or infinite: training stops before it reaches the weights."""


def train_step(model: VAE, optimizer, x: torch.Tensor, beta=1.0, free_bits=0.0, autocast=None) -> Losses:
    """One step of stochastic gradient descent on a batch x: the loss, its gradients, an update. Returns the Losses.

    `autocast`: a context for the forward pass (training.autocast: bf16 on CUDA), none by default.
    """
    with autocast or contextlib.nullcontext():
        losses = model.loss(x, beta, free_bits)  # forward pass: encode, sample z, decode, the batch's loss terms
    if not torch.isfinite(losses.objective.detach()):
        raise NonFiniteLoss(f"training stopped: the loss became {losses.objective.item()}")
    optimizer.zero_grad(set_to_none=True)  # forget the last step's gradients
    losses.objective.backward()  # the gradient of the objective with respect to every weight
    optimizer.step()  # move every weight a little against its gradient
    return losses


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
