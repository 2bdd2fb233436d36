"""The latent space: encode digits, reconstruct them, interpolate between codes, decode codes and grids of codes,
and compare the density of the codes the encoder uses (the aggregate posterior) with the prior's."""

import math

import torch

from .data import Digits, batches
from .model import evaluating, gaussian_log_prob


def encode_posteriors(model, digits: Digits, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean mu and standard deviation sigma of q(z|x) for every image of `digits`, each (N, latent_dim), on the CPU."""
    device = next(model.parameters()).device
    mus, sigmas = [], []
    with evaluating(model):
        for batch in batches(digits, batch_size):
            mu, log_var = model.encode(batch.images.to(device))
            mus.append(mu.float().cpu())
            sigmas.append(torch.exp(0.5 * log_var.float()).cpu())
    return torch.cat(mus), torch.cat(sigmas)


def encode_means(model, digits: Digits, batch_size: int = 1000) -> torch.Tensor:
    """The encoder means mu(x) of every image of `digits`, (N, latent_dim), on the CPU."""
    return encode_posteriors(model, digits, batch_size)[0]


def reconstruct(model, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Reconstructions (N, 1, 28, 28) on the CPU: each image decoded from its posterior mean mu(x), in eval mode."""
    device = next(model.parameters()).device
    with evaluating(model):
        return torch.cat([model.decode(model.encode(x.to(device))[0]).float().cpu() for x in images.split(batch_size)])


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """Straight line from z0 (t=0) to z1 (t=1)."""
    return torch.lerp(z0, z1, torch.as_tensor(t, dtype=z0.dtype))


def slerp(z0: torch.Tensor, z1: torch.Tensor, t, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation: follows the arc between z0 and z1, keeping the norm typical of a Gaussian sample.

    Falls back to lerp when the two vectors are (nearly) parallel, where the arc is a line.
    """
    t = torch.as_tensor(t, dtype=z0.dtype).reshape(-1, 1) if z0.dim() == 1 else torch.as_tensor(t, dtype=z0.dtype)
    cos = torch.nn.functional.cosine_similarity(z0, z1, dim=-1).clamp(-1, 1)
    omega = torch.arccos(cos)
    if omega.abs() < eps:
        return lerp(z0, z1, t).squeeze(0)
    path = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    return path.squeeze(0)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int = 10, method: str = "lerp") -> torch.Tensor:
    """`steps` codes from z0 to z1 inclusive, (steps, latent_dim)."""
    ts = torch.linspace(0, 1, steps).unsqueeze(1)
    if method == "lerp":
        return lerp(z0.unsqueeze(0), z1.unsqueeze(0), ts)
    if method == "slerp":
        return torch.stack([slerp(z0, z1, float(t)) for t in ts])
    raise ValueError(f"method must be 'lerp' or 'slerp', got {method!r}")


def codes_to_images(model, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Decode codes (N, latent_dim) in eval mode into images (N, 1, 28, 28) on the CPU, batch_size at a time."""
    device = next(model.parameters()).device
    with evaluating(model):
        return torch.cat([model.decode(chunk.to(device)).float().cpu() for chunk in z.split(batch_size)])


def manifold_codes(n: int = 20, latent_dim: int = 2) -> torch.Tensor:
    """An n x n grid of 2-D codes at evenly spaced quantiles of N(0, 1), row by row (top row = high z2).

    Quantiles rather than an even grid in z: each cell covers the same probability mass of the prior.
    """
    if latent_dim != 2:
        raise ValueError("the manifold grid is drawn for a 2-D latent space")
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))
    z1, z2 = torch.meshgrid(q, q.flip(0), indexing="xy")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


def class_centroids(codes: torch.Tensor, labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """The mean code of each class, (classes, latent_dim): where each digit sits in the latent space."""
    return torch.stack([codes[labels == c].mean(dim=0) for c in range(classes)])


def nearest_codes(codes: torch.Tensor, neighbours: int = 1, chunk: int = 1000) -> torch.Tensor:
    """Indices (N, neighbours) of the codes nearest to each code, itself left out: its neighbours in latent space."""
    nearest = []
    for start in range(0, len(codes), chunk):
        distances = torch.cdist(codes[start : start + chunk], codes)  # (chunk, N)
        rows = torch.arange(len(distances))
        distances[rows, rows + start] = float("inf")  # a code is not its own neighbour
        nearest.append(distances.topk(neighbours, largest=False).indices)
    return torch.cat(nearest)


def aggregate_log_density(z: torch.Tensor, mus: torch.Tensor, sigmas: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    """log q(z) of codes z (M, D) under the aggregate posterior q(z) = mean over images x of N(z; mu(x), sigma(x)²).

    mus, sigmas (N, D) are the encoded images' posteriors; q is the density of the codes the decoder is trained on,
    to compare with the prior's. Computed in chunks of z so that memory stays at chunk x N x D.
    """
    log_var = 2 * sigmas.log()  # (N, D)
    out = []
    for start in range(0, len(z), chunk):
        log_probs = gaussian_log_prob(z[start : start + chunk, None], mus, log_var)  # (chunk, N)
        out.append(torch.logsumexp(log_probs, dim=1) - math.log(len(mus)))
    return torch.cat(out)


def grid_codes(limit: float = 3.0, steps: int = 121) -> torch.Tensor:
    """(steps * steps, 2) codes on an even grid over [-limit, limit]^2, row by row from the bottom (z2 = -limit) up.

    The layout imshow(origin="lower") expects, so a density computed on it can be drawn as a map.
    """
    axis = torch.linspace(-limit, limit, steps)
    z1, z2 = torch.meshgrid(axis, axis, indexing="xy")  # (steps, steps) each; rows follow z2
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


def grid_moments(codes: torch.Tensor, log_density: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and standard deviation (D,) of a density known up to a constant at codes (M, D) of an even grid,
    in float64: e.g. the true posterior p(z|x) from measures.log_joint, normalised over the grid's window."""
    weights = torch.softmax(log_density.detach().cpu().double(), dim=0)[:, None]  # (M, 1), sums to 1
    codes = codes.detach().cpu().double()
    mean = (weights * codes).sum(0)
    return mean, (weights * (codes - mean) ** 2).sum(0).sqrt()
