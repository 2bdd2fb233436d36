# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2 · The model: encoder, decoder and the ELBO
#
# **What you will learn**
# - how the convolutional encoder turns a digit into the parameters of a Gaussian over a 2-D code `z`, and how the
#   decoder turns a code back into an image, layer by layer with the tensor shapes;
# - the loss of a variational autoencoder, the negative ELBO = reconstruction + KL, and how `vaelib` computes each part;
# - the reparameterisation trick, which lets gradients flow through a random sample;
# - a numeric check that the closed-form KL agrees with `torch.distributions`.
#
# **What you need**
# - notebook **01_data** (what the images and splits are);
# - a little probability: a Gaussian has a mean and a variance; log-likelihoods add up over independent pixels.

# %%
# %matplotlib inline
import math

import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

import vaelib
from vaelib import plots

# %% [markdown]
# ## Building the model
#
# `ModelConfig` holds everything needed to rebuild a model (it is saved in every checkpoint). We use a 2-D latent
# space, so that later we can draw it. The seed makes the random initial weights the same on every run.

# %%
torch.manual_seed(0)
model = vaelib.VAE(vaelib.ModelConfig(latent_dim=2))
model

# %% [markdown]
# ## Layer by layer
#
# The table below is produced from the real model: a forward pass with hooks on every layer records the shape
# that comes out (`B` is the batch size) and the number of trainable numbers (parameters) in that layer.
#
# - **Encoder**: two stride-2 convolutions halve the image twice (28 → 14 → 7) while the channels grow (1 → 32 → 64);
#   the 64 × 7 × 7 = 3,136 features are flattened and two linear layers give the mean `mu` and the log-variance
#   `log_var` of the code, each of size `latent_dim`.
# - **z**: one code sampled from that Gaussian (the reparameterisation trick, below).
# - **Decoder**: the mirror image; a linear layer back to 64 × 7 × 7, then two transposed convolutions that double the
#   size (7 → 14 → 28). It outputs one *logit* per pixel; `sigmoid(logit)` is the probability that the pixel is on.

# %%
rows = plots.layer_table(model)
print(plots.format_layer_table(rows))


# %%
def count(module):
    return sum(p.numel() for p in module.parameters())


encoder = count(model.encoder) + count(model.fc_mu) + count(model.fc_log_var)
print(f"encoder {encoder:,}   decoder {count(model.decoder):,}   total {count(model):,}")
print("table total matches the model:", sum(row["params"] for row in rows) == count(model))

# %% [markdown]
# Most parameters sit in the linear layers around the 3,136-wide bottleneck; the convolutions are small because a
# 3 × 3 filter is shared across the whole image.

# %% [markdown]
# ## The loss: the negative ELBO
#
# A VAE is a generative model: first draw a code $z \sim p(z) = \mathcal N(0, I)$, then draw an image from the
# decoder's distribution $p_\theta(x \mid z)$, here one Bernoulli variable per pixel. We would like to maximise the
# likelihood $\log p_\theta(x)$ of the training digits, but it involves an integral over all codes. The encoder
# $q_\phi(z \mid x) = \mathcal N\big(\mu_\phi(x), \operatorname{diag} \sigma^2_\phi(x)\big)$ guesses which codes could have produced $x$, and gives
# a lower bound, the **evidence lower bound**:
#
# $$
# \log p_\theta(x) \;\ge\; \underbrace{\mathbb E_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{reconstruction}}
# \;-\; \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\big\|\,p(z)\big)}_{\text{regulariser}} \;=\; \mathrm{ELBO}(x).
# $$
#
# We minimise the **negative ELBO**, in nats per image:
#
# - **reconstruction** $= -\log p_\theta(x \mid z) = -\sum_{i=1}^{784} \big[x_i \log p_i + (1 - x_i)\log(1 - p_i)\big]$, the binary
#   cross-entropy summed over pixels (`vaelib.bernoulli_nll`, computed from logits for numerical stability);
# - **KL** between two Gaussians has a closed form (`vaelib.kl_to_standard_normal`):
#
# $$
# \mathrm{KL}\big(\mathcal N(\mu, \sigma^2)\,\|\,\mathcal N(0, 1)\big) = \tfrac12 \sum_{j=1}^{d} \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big).
# $$
#
# The reconstruction term wants codes that pin each image down precisely; the KL term pulls every posterior towards
# the prior $\mathcal N(0, I)$, which keeps the latent space smooth and filled, so that random codes decode to digits.

# %% [markdown]
# ## Check: the closed-form KL against `torch.distributions`
#
# PyTorch knows the KL between two Normal distributions. Our formula must give the same numbers for any mean and
# log-variance, including extreme ones.

# %%
g = torch.Generator().manual_seed(0)
mu, log_var = 2 * torch.randn(5, 2, generator=g), 3 * torch.randn(5, 2, generator=g)
ours = vaelib.kl_to_standard_normal(mu, log_var)
reference = kl_divergence(Normal(mu, torch.exp(0.5 * log_var)), Normal(0.0, 1.0)).sum(dim=1)
print("ours     ", [round(v, 4) for v in ours.tolist()])
print("torch    ", [round(v, 4) for v in reference.tolist()])
print("agree to 1e-5:", torch.allclose(ours, reference, rtol=1e-5, atol=1e-5))

# %% [markdown]
# The same check for the reconstruction term: the binary cross-entropy from logits equals minus the log-probability
# of a `Bernoulli` distribution, summed over the 784 pixels.

# %%
logits, x = torch.randn(3, 1, 28, 28, generator=g), torch.rand(3, 1, 28, 28, generator=g).round()
ours = vaelib.bernoulli_nll(logits, x)
reference = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(dim=1)
print("ours ", [round(v, 3) for v in ours.tolist()], "  torch", [round(v, 3) for v in reference.tolist()])
print("agree to 1e-4:", torch.allclose(ours, reference, rtol=1e-4, atol=1e-4))

# %% [markdown]
# ## The reparameterisation trick
#
# The loss needs a sample $z \sim q_\phi(z \mid x)$, but "draw a random number" has no gradient with respect to
# $\mu$ and $\sigma$. The trick moves the randomness into a fixed noise $\varepsilon \sim \mathcal N(0, I)$:
#
# $$ z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp(\tfrac12 \log \sigma^2). $$
#
# Now $z$ is an ordinary differentiable function of $\mu$ and $\log\sigma^2$: $\partial z / \partial \mu = 1$ and
# $\partial z / \partial \log\sigma^2 = \tfrac12 \sigma \varepsilon$. Let us check that autograd agrees.

# %%
mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
log_var = torch.tensor([[0.0, -2.0]], requires_grad=True)
z = vaelib.reparameterize(mu, log_var, generator=torch.Generator().manual_seed(1))
z.sum().backward()
eps = (z - mu) / torch.exp(0.5 * log_var)
print("z           ", [round(v, 4) for v in z.flatten().tolist()])
print("dz/dmu      ", mu.grad.flatten().tolist())
print("dz/dlog_var ", [round(v, 4) for v in log_var.grad.flatten().tolist()])
print("0.5*sigma*eps", [round(v, 4) for v in (0.5 * torch.exp(0.5 * log_var) * eps).flatten().tolist()])

# %% [markdown]
# ## One forward pass on a real batch
#
# Eight test digits go through the untrained model. `model(x)` returns the decoder's logits, the posterior's `mu`
# and `log_var`, and the sampled `z`; `vaelib.negative_elbo` turns them into the loss.

# %%
data = vaelib.load_mnist()
x = data.test.images[:8]
torch.manual_seed(0)
out = model(x)
for name, value in out._asdict().items():
    print(f"{name:<8} {tuple(value.shape)}")

# %%
losses = vaelib.negative_elbo(out.logits, x, out.mu, out.log_var)
print(f"-ELBO {losses.neg_elbo:.1f} = reconstruction {losses.recon:.1f} + KL {losses.kl:.2f}   (nats per image)")
print(f"a decoder that says 0.5 for every pixel costs 784 * ln 2 = {784 * math.log(2):.1f} nats")

# %% [markdown]
# The untrained model does worse than that coin-flip baseline: its random weights make confident guesses, many of
# them wrong. Its reconstructions (bottom row) are noise:

# %%
plots.grid_figure(plots.reconstructions(model, x), nrow=8, title="untrained: originals (top), reconstructions (bottom)")

# %% [markdown]
# For contrast, the same eight digits through the 2-D model shipped with the repository (trained as in notebook 03).
# Its loss is about five times lower, and the reconstructions are recognisable, if blurry; some even change class
# (the 4s come back as 9s): two numbers cannot hold every detail of a digit.

# %%
trained, _ = vaelib.load_model(vaelib.pretrained_path(2))
torch.manual_seed(0)
out = trained(x)
losses = vaelib.negative_elbo(out.logits, x, out.mu, out.log_var)
print(f"pretrained: -ELBO {losses.neg_elbo:.1f} = reconstruction {losses.recon:.1f} + KL {losses.kl:.2f}")

# %%
plots.grid_figure(
    plots.reconstructions(trained, x), nrow=8, title="pretrained: originals (top), reconstructions (bottom)"
)

# %% [markdown]
# ## Recap
#
# - The encoder maps `(B, 1, 28, 28)` images to `mu` and `log_var` of shape `(B, latent_dim)`; the decoder maps
#   `(B, latent_dim)` codes to `(B, 1, 28, 28)` logits. The layer table comes from the real model.
# - The loss is the negative ELBO: Bernoulli reconstruction error summed over pixels plus the KL to the prior,
#   in nats per image. Our closed-form KL and reconstruction agree with `torch.distributions`.
# - The reparameterisation trick `z = mu + sigma * eps` makes sampling differentiable.
# - An untrained model costs more than a coin flip per pixel (784 ln 2 ≈ 543 nats per image); training brings
#   that down.
#
# Next: **03_training**.
#
# ## Exercises
#
# 1. Build `vaelib.VAE(vaelib.ModelConfig(latent_dim=16))` and print its layer table. Which layers change, and by
#    how many parameters? Check one of them by hand (a linear layer from `n` to `m` has `n * m + m` parameters).
# 2. Use `vaelib.kl_to_standard_normal` to find the KL of a 2-D posterior with `mu = (2, 0)` and `sigma = 0.1` in
#    both directions. Which part of the formula dominates? What does that say about confident codes far from 0?
# 3. Run the forward pass on the real batch again without `torch.manual_seed(0)`. Which outputs change and why?
#    (Two sources of randomness: dropout in training mode, and `eps`.)
