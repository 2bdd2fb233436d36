"""How good is a model: the negative ELBO of a whole split, in nats per image."""

import torch

from .data import Split, batches
from .model import negative_elbo, reparameterize

ELBO_SEED = 0  # the same z noise every time, so two evaluations of one model agree exactly


@torch.no_grad()
def estimate_elbo(model, split: Split, batch_size: int = 1000, beta: float = 1.0, seed: int = ELBO_SEED) -> dict:
    """Mean negative ELBO over `split` (model in eval mode, one z per image): {'loss', 'recon', 'kl'}."""
    was_training = model.training
    model.eval()
    generator = torch.Generator(split.images.device).manual_seed(seed)
    sums = torch.zeros(3, dtype=torch.float64)
    for batch in batches(split, batch_size):
        mu, log_var = model.encode(batch.images)
        z = reparameterize(mu, log_var, generator)
        terms = negative_elbo(model.decode_logits(z), batch.images, mu, log_var, beta)
        sums += torch.stack([t.double().cpu() for t in terms]) * len(batch)
    model.train(was_training)
    loss, recon, kl = (sums / len(split)).tolist()
    return {"loss": loss, "recon": recon, "kl": kl}
