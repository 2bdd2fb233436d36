"""The decoder's likelihood p(x|z): each of the 784 pixels is a Bernoulli variable whose logit l the decoder outputs.

    log p(x|z) = sum_p x_p log σ(l_p) + (1 - x_p) log(1 - σ(l_p)) = sum_p x_p l_p - log(1 + e^l_p)

This module is the one place that formula is written: the loss, the importance-weighted bound, the true posterior
and the exact likelihood all call it, so another likelihood (a Gaussian, say) means changing this file only.
"""

import torch
import torch.nn.functional as F


def log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) per image, (B,) float32, from logits and images (B, 1, 28, 28): minus the summed cross-entropy."""
    return -F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="none").flatten(1).sum(dim=1)


def mean(logits: torch.Tensor) -> torch.Tensor:
    """E[x|z] = σ(l): the pixel probabilities, the picture the decoder draws for a code."""
    return torch.sigmoid(logits)


@torch.no_grad()
def log_prob_fast(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) of n codes per image, without gradients: logits (n, B, 784), flat images x (B, 784) -> (n, B).

    For the importance-weighted bound, where this runs on k decodes per image: x is broadcast rather than copied,
    and log(1 + e^l) is computed in place in `logits` (which it overwrites) as max(l, 0) + log(1 + e^-|l|), several
    times faster on a CPU than F.softplus, whose log1p is not vectorised (benchmarks/iwae_speed.py).
    """
    signal = torch.einsum("nbp,bp->nb", logits, x.float())  # sum_p x_p l_p
    return signal - _softplus_(logits).sum(-1)


@torch.no_grad()
def log_prob_pairs(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) of every image with every code: logits (M, 784) of M codes, flat images x (B, 784) -> (B, M).

    One matrix product for all pairs, so the decoder runs once per code whatever B is (the true posterior and the
    exact likelihood on a grid of codes, measures.log_joint). Overwrites `logits`.
    """
    signal = x.float() @ logits.T  # (B, M): sum_p x_p l_p
    return signal - _softplus_(logits).sum(-1)


def _softplus_(logits: torch.Tensor) -> torch.Tensor:
    """log(1 + e^l) in place: max(l, 0) + log(1 + e^-|l|), equal to F.softplus to float32 rounding."""
    positive = logits.clamp(min=0)
    return logits.abs_().neg_().exp_().add_(1).log_().add_(positive)
