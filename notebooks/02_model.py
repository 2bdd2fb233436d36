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
# - the whole model in about forty lines of plain PyTorch: a convolutional encoder that turns a digit into a Gaussian
#   over a 2-D code `z`, the reparameterisation trick, a decoder that turns a code back into an image, and the loss;
#   and that `vaelib.VAE` computes exactly the same numbers;
# - where the loss of a variational autoencoder comes from: the ELBO, derived in three lines, and what its gap to the
#   true log-likelihood is;
# - how the negative ELBO = reconstruction + KL is computed, checked against `torch.distributions`;
# - why the same untrained model gives different losses in training and in evaluation mode;
# - how loose the bound is for the shipped model: the importance-weighted bound for k = 1 … 1000 against the exact
#   −log p(x), computed by integrating over the 2-D latent plane, on a random sample of test digits large enough to
#   trust the mean; that the gap is the KL divergence from the encoder's Gaussian to the true posterior; and where
#   it comes from, with the true posterior drawn beside the encoder's Gaussian;
# - the units these numbers come in (nats, bits per dimension), why they cannot be compared with the numbers papers
#   report, and what number to expect instead.
#
# **What you need**
# - notebook **01_data** (what the images and splits are, and the VAE in one paragraph);
# - a little probability: a Gaussian has a mean and a variance; log-likelihoods add up over independent pixels;
#   Bayes' rule p(z | x) = p(x | z) p(z) / p(x);
# - about ten minutes of CPU time for the section "How loose is the bound?" (one minute in quick mode,
#   `VAELIB_QUICK=1`, which measures a smaller sample).
#
# Notation, the same in every notebook: $p(z) = \mathcal N(0, I)$ is the prior over codes, $p(x \mid z)$ the
# decoder's distribution over images, $q(z \mid x)$ the encoder's Gaussian guess of which codes produced $x$,
# $p(z \mid x)$ the true posterior it approximates, and $p(x)$ the likelihood of an image.

# %%
# %matplotlib inline
import math
import statistics
import time

import torch
import torch.nn.functional as F
from IPython.display import Markdown
from torch import nn
from torch.distributions import Bernoulli, Normal, kl_divergence

import vaelib
from vaelib.core import latent, likelihood, measures
from vaelib.notebook import figures, tables

# %% [markdown]
# ## The model in plain PyTorch
#
# Here is the whole model, written with nothing but `torch.nn`. The **encoder** reads an image, 1 × 28 × 28, with two
# stride-2 convolutions that halve it twice (28 → 14 → 7) while the channels grow (1 → 32 → 64); the 64 × 7 × 7 =
# 3,136 features are flattened and two linear layers give the mean `mu` and the log-variance `log_var` of
# $q(z \mid x)$, one number per latent dimension each. The **reparameterisation trick** draws the code:
# $z = \mu + \sigma \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$ and $\sigma = \exp(\tfrac12 \log \sigma^2)$
# (why this form, below). The **decoder** mirrors the encoder: a linear layer back to 64 × 7 × 7, then two transposed
# convolutions that double the size (7 → 14 → 28). It outputs one *logit* per pixel; `sigmoid(logit)` is the
# probability that the pixel is ink. The shape after each layer is written beside it (`B` is the batch size).


# %%
class PlainVAE(nn.Module):
    """The project's VAE in plain torch.nn: encoder -> (mu, log_var) of q(z|x) -> z -> decoder -> logits of p(x|z)."""

    def __init__(self, latent_dim=2, dropout=0.25, slope=0.01):
        super().__init__()
        self.encoder = nn.Sequential(  # x: (B, 1, 28, 28)
            nn.Conv2d(1, 32, 3, stride=2, padding=1),  # (B, 32, 14, 14)
            nn.BatchNorm2d(32),  # (B, 32, 14, 14)
            nn.LeakyReLU(slope),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, stride=2, padding=1),  # (B, 64, 7, 7)
            nn.BatchNorm2d(64),  # (B, 64, 7, 7)
            nn.LeakyReLU(slope),  # (B, 64, 7, 7)
            nn.Dropout(dropout),  # (B, 64, 7, 7)
            nn.Flatten(),  # (B, 3136)
        )
        self.fc_mu = nn.Linear(3136, latent_dim)  # (B, latent_dim)
        self.fc_log_var = nn.Linear(3136, latent_dim)  # (B, latent_dim)
        self.decoder = nn.Sequential(  # z: (B, latent_dim)
            nn.Linear(latent_dim, 3136),  # (B, 3136)
            nn.Unflatten(1, (64, 7, 7)),  # (B, 64, 7, 7)
            nn.Dropout(dropout),  # (B, 64, 7, 7)
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),  # (B, 32, 14, 14)
            nn.BatchNorm2d(32),  # (B, 32, 14, 14)
            nn.LeakyReLU(slope),  # (B, 32, 14, 14)
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),  # (B, 1, 28, 28): logits
        )

    def forward(self, x, eps=None):
        h = self.encoder(x)  # (B, 3136)
        mu, log_var = self.fc_mu(h), self.fc_log_var(h)  # q(z|x) = N(mu, exp(log_var)), (B, latent_dim) each
        eps = torch.randn_like(mu) if eps is None else eps  # eps ~ N(0, I)
        z = mu + torch.exp(0.5 * log_var) * eps  # the reparameterisation trick
        return self.decoder(z), mu, log_var, z  # logits (B, 1, 28, 28)


def neg_elbo(logits, x, mu, log_var):
    """-ELBO of each image, in nats: -log p(x|z) (Bernoulli pixels, from logits) + KL(q(z|x) || N(0, I))."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2, 3))  # (B,)
    kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(dim=1)  # (B,), closed form
    return recon + kl


# %% [markdown]
# The loss, `neg_elbo`, is explained in the next sections: the reconstruction term is how improbable the decoder
# finds the real pixels, and the KL term how far the encoder's Gaussian strays from the prior $\mathcal N(0, I)$.
#
# ## Layer by layer
#
# The table below comes from a real forward pass through the model with hooks on every layer: the shape that comes
# out of each, and its number of trainable numbers (parameters).

# %%
torch.manual_seed(0)
model = vaelib.VAE(vaelib.ModelConfig(latent_dim=2))
rows = tables.layer_table(model)
print(tables.format_layer_table(rows))

# %% [markdown]
# Where do the parameters sit? By kind of layer:

# %%
kinds = {"convolutions": ("Conv2d", "ConvTranspose2d"), "linear layers": ("Linear",), "batch norm": ("BatchNorm2d",)}
by_kind = {name: sum(row["params"] for row in rows if row["type"] in types) for name, types in kinds.items()}
total = sum(p.numel() for p in model.parameters())
for name, count in by_kind.items():
    print(f"{name:<14} {count:>7,}  ({count / total:.0%})")
print(f"{'total':<14} {total:>7,}")
assert sum(by_kind.values()) == total and by_kind["convolutions"] > by_kind["linear layers"]

# %% [markdown]
# The convolutions hold most of the parameters (about three fifths), the linear layers around the 3,136-wide
# bottleneck most of the rest. A convolution's 3 × 3 filter is shared across the whole image, but 32 × 64 of them
# in each of the two middle layers add up; the linear layers are small only because the code has two numbers.
#
# ## The same model as `vaelib.VAE`
#
# `vaelib.VAE` is this model: the same layers under the same names, so the weights of the 2-D model shipped with the
# package load into `PlainVAE` as they are. In evaluation mode (next sections) and with the same noise $\varepsilon$,
# the two give the same $\mu$, $\log\sigma^2$, logits and −ELBO on real digits:

# %%
mnist = vaelib.load_mnist()
x = mnist.test.images[:8]
shipped, _ = vaelib.load_model(vaelib.pretrained_path(2))  # vaelib.VAE, in eval mode
plain = PlainVAE(latent_dim=2)
plain.load_state_dict(shipped.state_dict())
plain.eval()
eps = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    logits, mu, log_var, z = plain(x, eps)
    mu_lib, log_var_lib = shipped.encode(x)
    logits_lib = shipped.decode_logits(mu_lib + torch.exp(0.5 * log_var_lib) * eps)
    ours = neg_elbo(logits, x, mu, log_var).mean()
    theirs = vaelib.negative_elbo(logits_lib, x, mu_lib, log_var_lib).neg_elbo
for name, a, b in (("mu", mu, mu_lib), ("log_var", log_var, log_var_lib), ("logits", logits, logits_lib)):
    print(f"{name:<8} largest difference {(a - b).abs().max():.1e}")
print(f"-ELBO    {ours:.4f} (PlainVAE) and {theirs:.4f} (vaelib)")
for a, b in ((mu, mu_lib), (log_var, log_var_lib), (logits, logits_lib), (ours, theirs)):
    torch.testing.assert_close(a, b)

# %% [markdown]
# One difference is deliberate. In training mode, `nn.Dropout` zeroes a random quarter of the activations; `vaelib`
# uses `CheapMaskDropout`, the same maths (zero a share p, scale the rest by 1/(1 − p)) with the random mask drawn
# another way: `torch.rand_like` and a comparison, instead of the `bernoulli_` call inside `nn.Dropout`. That is why
# the layer table above says `CheapMaskDropout` where `PlainVAE` has `nn.Dropout`. What it buys, timed here each
# way, in alternating rounds: the dropout layer alone (forward and backward on the encoder's `(128, 64, 7, 7)`
# activations), and a whole training step on a batch of 128:


# %% tags=["nbval-ignore-output"]
def plain_loss(net, batch):
    logits, mu, log_var, _ = net(batch)
    return neg_elbo(logits, batch, mu, log_var).mean()


def seconds_per_step(net, loss_of, steps=30):
    """Mean seconds of one training step (loss, zero_grad, backward, step) on a batch of 128 training digits."""
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    batch = mnist.train.images[:128]
    start = time.perf_counter()
    for _ in range(steps):
        loss = loss_of(net, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def seconds_per_mask(layer, repeats=200):
    """Mean seconds of one forward and backward pass of a dropout layer on a batch of encoder activations."""
    h = torch.randn(128, 64, 7, 7, requires_grad=True)
    start = time.perf_counter()
    for _ in range(repeats):
        layer(h).sum().backward()
    return (time.perf_counter() - start) / repeats


torch.manual_seed(0)
names = ("nn.Dropout (PlainVAE)", "CheapMaskDropout (vaelib.VAE)")
masks, steps = {name: [] for name in names}, {name: [] for name in names}
for _ in range(5):  # alternate, so that both see the same machine load
    masks[names[0]].append(seconds_per_mask(nn.Dropout(0.25)))
    masks[names[1]].append(seconds_per_mask(vaelib.core.model.CheapMaskDropout(0.25)))
    steps[names[0]].append(seconds_per_step(PlainVAE().train(), plain_loss))
    steps[names[1]].append(seconds_per_step(vaelib.VAE().train(), lambda n, b: n.loss(b).objective))
for what, timings in (("the dropout layer", masks), ("a training step", steps)):
    plain_ms, cheap_ms = (1000 * statistics.median(values) for values in timings.values())
    print(f"{what}: {plain_ms:.2f} ms with nn.Dropout, {cheap_ms:.2f} ms with CheapMaskDropout (medians of 5 rounds)")

# %% [markdown]
# The two lines are what the other mask buys on the machine that ran this notebook. It depends on the CPU, the
# PyTorch build and what else the machine is doing; in a whole step the convolutions take most of the time, so the
# difference there can be lost in the noise of timing, and on a GPU both are fast. The masks are the same maths, so
# the choice changes speed only, never a result. Everything else is the same, and from here on the notebooks use
# `vaelib.VAE` (`vaelib/core/model.py`, with its pixel likelihood in `vaelib/core/likelihood.py`).
#
# ## The loss: where the ELBO comes from
#
# A VAE is a generative model: first draw a code $z \sim p(z) = \mathcal N(0, I)$, then draw an image from the
# decoder's distribution $p(x \mid z)$, here one Bernoulli variable per pixel. Training should maximise the
# likelihood of the training digits,
#
# $$ p(x) = \int p(x \mid z)\, p(z)\, dz, $$
#
# but that integral runs over every possible code. The encoder helps: $q(z \mid x) =
# \mathcal N\big(\mu(x), \operatorname{diag} \sigma^2(x)\big)$ guesses which codes could have produced $x$.
# For *any* such guess, three lines of algebra (Bayes' rule $p(x) = p(x, z) / p(z \mid x)$ inside an expectation over
# $z \sim q(z \mid x)$, which does not change $\log p(x)$) give
#
# $$
# \begin{aligned}
# \log p(x) &= \mathbb E_{q(z\mid x)}\Big[\log \frac{p(x, z)}{p(z \mid x)}\Big]
#   = \mathbb E_{q(z\mid x)}\Big[\log \frac{p(x, z)}{q(z \mid x)}\Big]
#   + \mathbb E_{q(z\mid x)}\Big[\log \frac{q(z \mid x)}{p(z \mid x)}\Big] \\
# &= \mathrm{ELBO}(x) + \mathrm{KL}\big(q(z \mid x)\,\big\|\,p(z \mid x)\big).
# \end{aligned}
# $$
#
# A KL divergence is never negative, so the **evidence lower bound** is a lower bound on $\log p(x)$, and its
# **gap** is exactly how far the encoder's guess is from the true posterior $p(z \mid x)$. Writing
# $p(x, z) = p(x \mid z)\, p(z)$ splits the ELBO into the two terms we compute:
#
# $$
# \mathrm{ELBO}(x) = \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x \mid z)\big]}_{-\text{reconstruction}}
# \;-\; \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)}_{\text{KL to the prior}}.
# $$
#
# We minimise the **negative ELBO**. Its unit is the **nat**: log-probabilities here use natural logarithms, and an
# outcome of probability p costs −ln p nats (one bit, the cost of a fair coin flip, is ln 2 nats; the next cell).
# Its two terms:
#
# - **reconstruction** $= -\log p(x \mid z) = -\sum_{i=1}^{784} \big[x_i \log p_i + (1 - x_i)\log(1 - p_i)\big]$, the
#   binary cross-entropy summed over pixels (`vaelib.core.likelihood.log_prob`, computed from logits for numerical
#   stability). The expectation over $q$ is estimated with **one sample** of $z$ per image: cheap, unbiased, and
#   noisy, which is fine because training averages over many images and steps;
# - **KL** between two Gaussians has a closed form (`vaelib.kl_to_standard_normal`, one term per dimension), so it
#   needs no sample:
#
# $$
# \mathrm{KL}\big(\mathcal N(\mu, \sigma^2)\,\|\,\mathcal N(0, 1)\big) = \tfrac12 \sum_{j=1}^{d} \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big).
# $$
#
# The reconstruction term wants codes that pin each image down precisely; the KL term pulls every posterior towards
# the prior $\mathcal N(0, I)$, which keeps the latent space smooth and filled, so that random codes decode to digits.
# How big the gap is for a trained model we measure below. First the unit, in two lines:

# %%
p = 0.5  # a fair coin flip
print(f"an outcome of probability {p} costs -ln {p} = {-math.log(p):.4f} nats = {-math.log2(p):.0f} bit")
assert -math.log(p) == math.log(2)

# %% [markdown]
# ## Check: the closed-form KL against `torch.distributions`
#
# PyTorch knows the KL between two Normal distributions. Our formula must give the same numbers for any mean and
# log-variance, including extreme ones.

# %%
g = torch.Generator().manual_seed(0)
mu, log_var = 2 * torch.randn(5, 2, generator=g), 3 * torch.randn(5, 2, generator=g)
ours = vaelib.kl_to_standard_normal(mu, log_var).sum(dim=1)  # one value per dimension, summed per image
reference = kl_divergence(Normal(mu, torch.exp(0.5 * log_var)), Normal(0.0, 1.0)).sum(dim=1)
print("ours     ", [round(v, 4) for v in ours.tolist()])
print("torch    ", [round(v, 4) for v in reference.tolist()])
print("agree to 1e-5:", torch.allclose(ours, reference, rtol=1e-5, atol=1e-5))

# %% [markdown]
# The same check for the reconstruction term: the binary cross-entropy from logits equals minus the log-probability
# of a `Bernoulli` distribution, summed over the 784 pixels.

# %%
logits, x_coins = torch.randn(3, 1, 28, 28, generator=g), torch.rand(3, 1, 28, 28, generator=g).round()
ours = -likelihood.log_prob(logits, x_coins)
reference = -Bernoulli(logits=logits).log_prob(x_coins).flatten(1).sum(dim=1)
print("ours ", [round(v, 3) for v in ours.tolist()], "  torch", [round(v, 3) for v in reference.tolist()])
print("agree to 1e-4:", torch.allclose(ours, reference, rtol=1e-4, atol=1e-4))

# %% [markdown]
# ## The reparameterisation trick
#
# The loss needs a sample $z \sim q(z \mid x)$, but "draw a random number" has no gradient with respect to
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
# The eight test digits go through the untrained model. `model(x)` returns the decoder's logits, the posterior's
# `mu` and `log_var`, and the sampled `z`; `vaelib.negative_elbo` turns them into the loss.

# %%
torch.manual_seed(0)
out = model(x)
for name, value in out._asdict().items():
    print(f"{name:<8} {tuple(value.shape)}")

# %%
losses = vaelib.negative_elbo(out.logits, x, out.mu, out.log_var)
print(f"-ELBO {losses.neg_elbo:.1f} = reconstruction {losses.recon:.1f} + KL {losses.kl:.2f}   (nats per image)")
print(f"a decoder that says 0.5 for every pixel costs 784 * ln 2 = {784 * math.log(2):.1f} nats")

# %% [markdown]
# ## Training mode and evaluation mode
#
# A freshly built PyTorch module is in **training mode**, and so was the pass above. Two kinds of layers behave
# differently in the two modes:
#
# - **Dropout** (`dropout=0.25` in `ModelConfig`) zeroes a random 25 % of the activations in training mode and
#   scales the rest by 4/3, so each training step sees a slightly different network; in evaluation mode it
#   passes everything through.
# - **BatchNorm** normalises each channel in training mode with the mean and variance of *this batch*, and keeps
#   running averages of them; in evaluation mode it uses those running averages instead. An untrained model's
#   running averages are still their starting values, mean 0 and variance 1, so in evaluation mode BatchNorm leaves
#   its input almost unchanged.
#
# `model.eval()` switches both, `model.train()` switches back; `vaelib.evaluating(model)` does it for one block of
# code and restores the mode afterwards, and every evaluation in `vaelib` uses it. The same eight digits, the same
# weights, the same noise, in both modes:


# %%
def fresh_model():
    """The untrained model of this notebook, rebuilt: same seed, same weights, BatchNorm's averages untouched."""
    torch.manual_seed(0)
    return vaelib.VAE(vaelib.ModelConfig(latent_dim=2))


def forward_pass(model, x, seed=0):
    """-ELBO of x and the mean |logit| of the decoder, in the model's current mode, with a fixed z noise."""
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model(x)
    return vaelib.negative_elbo(out.logits, x, out.mu, out.log_var).neg_elbo.item(), out.logits.abs().mean().item()


untrained = fresh_model()
batchnorm = untrained.encoder[1]
print(f"BatchNorm's running variance (mean over channels) before: {batchnorm.running_var.mean():.3f}")
with vaelib.evaluating(untrained):
    in_eval, logits_eval = forward_pass(untrained, x)
in_training, logits_training = forward_pass(untrained, x)
print(f"evaluation mode: -ELBO {in_eval:6.1f}   mean |logit| {logits_eval:.2f}")
print(f"training mode:   -ELBO {in_training:6.1f}   mean |logit| {logits_training:.2f}")
print(f"BatchNorm's running variance after one training-mode pass: {batchnorm.running_var.mean():.3f}")
assert in_training > in_eval and logits_training > logits_eval

# %% [markdown]
# In evaluation mode the untrained decoder's logits are small, so every pixel probability sigmoid(logit) is close
# to 0.5: the decoder says "grey" everywhere, and its loss sits just above the coin-flip cost of 784 ln 2 nats.
# In training mode, BatchNorm rescales every channel to unit variance with the batch's own statistics, the logits
# grow, and the decoder makes larger errors in both directions, so the loss is higher: 690.8 nats against 585.7.
# Neither number is "the" loss of an untrained model: they are two modes of one network.
#
# The last line shows a third difference: a training-mode pass also *updates* BatchNorm's running averages (10 % of
# the way towards this batch's statistics). That is how they learn during training, and it is why this section
# rebuilt the model with `fresh_model()` instead of reusing `model`, which had already run in training mode.
#
# Notebook 03 starts from the same untrained model (seed 0) and reports its loss in evaluation mode on the 5,000
# validation images. Here is that number: the eight digits' evaluation-mode loss above is close to it, so the
# mode, not the small sample, makes the big difference.

# %%
untrained_val = vaelib.estimate_elbo(fresh_model(), mnist.val)["neg_elbo"]
print(f"evaluation mode, 5,000 validation images: -ELBO {untrained_val:.1f}")
assert abs(untrained_val - in_eval) < abs(in_training - in_eval)

# %% [markdown]
# The reconstructions below are drawn in evaluation mode too (`latent.reconstruct` decodes the posterior mean),
# which is why the bottom row is a nearly uniform grey: the untrained decoder has not learnt anything to draw yet.

# %%
figures.mosaic_figure(
    torch.cat([x, latent.reconstruct(fresh_model(), x)]),
    nrow=8,
    title="untrained: originals (top), reconstructions (bottom)",
)

# %% [markdown]
# ## A trained model
#
# The same eight digits through the 2-D model shipped with the package (trained as in notebook 03), in evaluation
# mode:

# %%
trained = shipped
eight = vaelib.Digits(x, mnist.test.labels[:8])
pretrained = vaelib.estimate_elbo(trained, eight)
print(
    f"pretrained: -ELBO {pretrained['neg_elbo']:.1f} = reconstruction {pretrained['recon']:.1f} + KL {pretrained['kl']:.2f}"
)
print(f"{in_eval / pretrained['neg_elbo']:.1f} times lower than the untrained model's {in_eval:.1f}")

# %% [markdown]
# These eight are easier than the average test digit. The −ELBO of every test image (one sample of z each,
# `measures.neg_elbo_per_image`) shows where they sit:

# %%
per_image = measures.neg_elbo_per_image(trained, mnist.test)
share_worse = (per_image > pretrained["neg_elbo"]).double().mean().item()
print(f"all 10,000 test digits: mean -ELBO {per_image.mean():.1f}, median {per_image.median():.1f}")
print(f"the eight digits above: {pretrained['neg_elbo']:.1f}; {share_worse:.0%} of the test digits score worse")
assert pretrained["neg_elbo"] < per_image.mean()

# %% [markdown]
# So a number measured on a handful of digits says little about the test set: these eight happen to sit in the
# easier part of the distribution. The sections below measure a random sample instead.

# %%
figures.mosaic_figure(
    torch.cat([x, latent.reconstruct(trained, x)]),
    nrow=8,
    title="pretrained: originals (top), reconstructions (bottom)",
)

# %% [markdown]
# The reconstructions are recognisable, if blurry, and some lose their identity: both 4s come back as 9s, and the 2
# as a smudge. Two numbers cannot hold every detail of a digit.
#
# ## How loose is the bound?
#
# The ELBO is below $\log p(x)$ by $\mathrm{KL}\big(q(z \mid x)\,\|\,p(z \mid x)\big)$. To see how much, we need a
# tighter estimate. Burda, Grosse and Salakhutdinov (2016) average **importance weights**
# $w_i = p(x, z_i) / q(z_i \mid x)$ over $k$ codes $z_i \sim q(z \mid x)$ *inside* the logarithm. The result is the
# **importance-weighted autoencoder (IWAE) bound**, named after the model they trained with it:
#
# $$ \mathcal L_k(x) = \mathbb E\Big[\log \frac1k \sum_{i=1}^k w_i\Big], \qquad
#    \mathcal L_1 = \mathrm{ELBO} \le \mathcal L_{10} \le \mathcal L_{100} \le \dots \to \log p(x). $$
#
# The ELBO is the mean of $\log w$; the bound is the log of the mean of $w$, which by Jensen's inequality is never
# smaller, and the larger $k$, the closer it gets to $\log p(x)$. `measures.iwae_log_weights` draws the codes and
# returns $\log w_i$ for each image; the bound is then two lines, written here and checked against
# `measures.iwae_per_image`, which `vae-evaluate` reports:

# %%
k, seed = 100, 7
log_w = measures.iwae_log_weights(trained, x, k=k, generator=torch.Generator().manual_seed(seed))  # (k, 8)
iwae = -(torch.logsumexp(log_w, dim=0) - math.log(k))  # -L_k per image: minus the log of the mean weight
print("log-weights:", tuple(log_w.shape), log_w.dtype)
print("IWAE bound, k = 100, per digit:", [round(v, 2) for v in iwae.tolist()])
torch.testing.assert_close(iwae, measures.iwae_per_image(trained, eight, k=k, batch_size=8, seed=seed))

# %% [markdown]
# **A sample large enough to trust.** The gap differs a lot from digit to digit, so eight digits cannot measure its
# mean. We draw a seeded random sample of test digits (`Digits.subset`) and make it large enough that the standard
# error of the mean gap is at most 0.2 nats. For every digit we draw 1,000 codes, five times with five seeds, and
# form the bound for each $k$ by averaging it over the 1000/k groups of $k$ draws (less noisy than one group alone).

# %% tags=["nbval-ignore-output"]
SAMPLE = 200 if vaelib.quick_mode() else 2_500  # quick mode (CI): a smaller sample, the same code
SEEDS = range(5)
sample = mnist.test.subset(SAMPLE, seed=1)
ks = (1, 10, 100, 1000)


def bounds_of(log_w, k):
    """-L_k of each image, averaged over the 1000 / k groups of k draws."""
    groups = log_w.reshape(1000 // k, k, -1)  # (groups, k, N)
    return -(groups.logsumexp(dim=1) - math.log(k)).mean(dim=0)  # (N,)


start = time.perf_counter()
runs = []  # one dict {k: per-image bound} per seed
for s in SEEDS:
    log_w = measures.iwae_log_weights(trained, sample.images, k=1000, generator=torch.Generator().manual_seed(s))
    runs.append({k: bounds_of(log_w, k) for k in ks})
seconds_bounds = time.perf_counter() - start
print(f"{len(sample):,} test digits, {len(SEEDS)} seeds of 1,000 codes each")

# %% tags=["nbval-ignore-output"]
print(f"{len(sample) * 1000 * len(SEEDS):,} decodes in {seconds_bounds:.0f} s")

# %% [markdown]
# Each bound's mean over the sample, for each seed, and its spread over the seeds:

# %% tags=["nbval-ignore-output"]
means = torch.tensor([[run[k].mean().item() for k in ks] for run in runs])  # (seeds, ks)
print("seed " + "".join(f"{f'k = {k}':>12}" for k in ks))
for s, row in zip(SEEDS, means.tolist(), strict=True):
    print(f"{s:>4} " + "".join(f"{v:12.3f}" for v in row))
print("std  " + "".join(f"{v:12.3f}" for v in means.std(dim=0).tolist()))
print(f"largest spread over the seeds: {means.std(dim=0).max():.3f} nats, below 0.1")
assert (means.std(dim=0) < 0.1).all()  # from seed to seed, each mean moves by less than 0.1 nats
assert all((row[:-1] > row[1:]).all() for row in means)  # and for every seed the bound tightens with k

# %% [markdown]
# The $k = 1$ column is the −ELBO, its expectation estimated with 1,000 codes per image; each tenfold increase of $k$
# tightens the bound, by less each time. The seeds barely matter: over this many digits, each mean moves by less
# than 0.1 nats from one seed to the next (the last row). Within one digit the estimate is noisier, and the noise of
# the bound *grows* with $k$ here, because each seed has fewer groups of $k$ draws to average.
#
# **What $k$ costs.** Every importance sample is one pass through the decoder, so the bound with $k = 1000$ decodes
# 1,000 images per digit, where the ELBO decodes one. Timed on the eight digits:

# %% tags=["nbval-ignore-output"]
for k in (1, 1000):
    start = time.perf_counter()
    measures.iwae_log_weights(trained, x, k=k)
    print(f"k = {k:>4}: {8 * k:>5} decodes in {1000 * (time.perf_counter() - start):6.1f} ms")

# %% [markdown]
# ## The target: −log p(x) itself
#
# The bounds are approaching *something*. With a 2-D latent we can compute it: $p(x) = \int p(x \mid z)\, p(z)\, dz$
# is a 2-D integral, and a sum over a fine grid of codes approximates it well. `measures.grid_neg_log_likelihood`
# decodes a 301 × 301 grid over [−5, 5]² once (90,601 decodes, shared by all images) and adds up
# $p(x \mid z_g)\, p(z_g)$ times the cell area. A coarser grid shows whether the grid is fine enough:

# %% tags=["nbval-ignore-output"]
exact = measures.grid_neg_log_likelihood(trained, sample.images)
coarse = measures.grid_neg_log_likelihood(trained, sample.images, steps=151)
print(f"-log p(x): {exact.mean():.3f} nats per image (301 x 301 grid), {coarse.mean():.3f} (151 x 151)")
print(f"largest difference between the two grids on one digit: {(exact - coarse).abs().max():.4f} nats")

# %% [markdown]
# Halving the grid spacing changes the answer by far less than the gaps we are about to read, so we can treat it as
# exact. The bounds of the first seed, next to it, averaged over the sample, with the standard error of each mean
# over the digits:

# %% tags=["nbval-ignore-output"]
first = runs[0]
gap = first[1] - exact  # the ELBO's gap of each digit
print(f"{'':>10}{'-ELBO':>9}{'k=10':>9}{'k=100':>9}{'k=1000':>9}{'-log p(x)':>11}{'ELBO gap':>10}")
print(f"{'mean':>10}" + "".join(f"{first[k].mean():9.2f}" for k in ks) + f"{exact.mean():11.2f}{gap.mean():10.2f}")
print(f"{'std. err.':>10}" + "".join(f"{measures.standard_error(first[k]):9.2f}" for k in ks)
      + f"{measures.standard_error(exact):11.2f}{measures.standard_error(gap):10.2f}")  # fmt: skip
print(f"standard error of the mean gap: {measures.standard_error(gap):.3f} nats, at most 0.2 as the sample was sized")
assert vaelib.quick_mode() or measures.standard_error(gap) <= 0.2  # the full sample is large enough
assert first[1000].mean() > exact.mean()  # on average every bound stays above -log p(x)

# %%
figures.bounds_figure({k: run.mean().item() for k, run in first.items()}, first[1].mean().item(), exact.mean().item())

# %% [markdown]
# On average over the sample, every bound lies above the exact −log p(x) and they close in on it from above as $k$
# grows: the theory above, checked on real digits (`tests/core/test_measures.py` checks the same order). A single
# digit's $k = 1000$ estimate can dip a little below its own −log p(x): the estimate is random, and the bound holds
# for its expectation, which the average over digits approaches.

# %% tags=["nbval-ignore-output"]
dips = exact - first[1000]
print(
    f"k = 1000 estimates below -log p(x): {int((dips > 0).sum())} of {len(sample):,}, by at most {dips.max():.2f} nats"
)

# %% [markdown]
# ## The gap is a KL divergence
#
# The derivation says the gap is $\mathrm{KL}\big(q(z \mid x)\,\|\,p(z \mid x)\big)$. With the exact $\log p(x)$ we can
# compute that divergence directly, as a divergence between two densities rather than a difference of two bounds:
# `measures.posterior_kl` evaluates $\log q(z \mid x) - \log p(z \mid x)$ on a 41 × 41 grid of codes covering
# ±6σ of each digit's $q$, weighs it by $q$, and sums. Beside it, the gap above, from the Monte Carlo −ELBO:

# %% tags=["nbval-ignore-output"]
kl_true = measures.posterior_kl(trained, sample.images, exact)
difference = gap - kl_true
print(f"mean gap (Monte Carlo -ELBO minus -log p(x)): {gap.mean():.3f} nats")
print(f"mean KL(q(z|x) || p(z|x)), by quadrature:     {kl_true.mean():.3f} nats")
print(f"per digit, gap - KL: mean {difference.mean():+.3f}, largest {difference.abs().max():.3f} nats")
assert abs(difference.mean()) < 2 * measures.standard_error(difference) + 0.01 and (kl_true > 0).all()

# %% [markdown]
# They agree digit by digit, up to the Monte Carlo noise of the −ELBO: the ELBO's gap *is* the KL divergence from the
# encoder's Gaussian to the true posterior. How large it is, and for which digits, we read next.
#
# ## Where the gap comes from: the true posterior
#
# The grid gives us $\log p(x, z)$ at any codes (`measures.log_joint`), so we can draw the true posterior
# $p(z \mid x) = p(x, z) / p(x)$ itself and lay the encoder's Gaussian over it: for the digit of the sample with the
# largest gap and the one with the smallest. First, over the whole 301 × 301 grid, where each posterior's mass
# lies, and how much of it $q$'s 2σ ellipse covers:

# %% tags=["nbval-ignore-output"]
q_mu, q_sigma = latent.encode_posteriors(trained, sample)  # (N, 2) each
worst, best = int(gap.argmax()), int(gap.argmin())
plane = latent.grid_codes(5.0, 301)
posteriors = {}
for i in (worst, best):
    weights = torch.softmax(measures.log_joint(trained, sample.images[i : i + 1], plane)[0], dim=0)  # p(z|x)
    mean, spread = latent.grid_moments(plane, weights.log())
    inside = (((plane - q_mu[i]) / (2 * q_sigma[i])) ** 2).sum(1) <= 1  # the codes in q's 2σ ellipse
    posteriors[i] = mean, spread, weights[inside].sum().item()
    print(f"a {sample.labels[i]}, gap {gap[i]:.2f} nats:")
    print(f"  p(z|x): mean ({mean[0]:+.3f}, {mean[1]:+.3f}), std ({spread[0]:.3f}, {spread[1]:.3f})")
    print(f"  q(z|x): mean ({q_mu[i, 0]:+.3f}, {q_mu[i, 1]:+.3f}), std ({q_sigma[i, 0]:.3f}, {q_sigma[i, 1]:.3f})")
    print(f"  share of the posterior's mass inside q's 2σ ellipse: {posteriors[i][2]:.1%}")
assert posteriors[worst][2] < posteriors[best][2]

# %% [markdown]
# Drawn, each in a window that holds both the posterior and $q$:

# %%
panels = {}
for i in (worst, best):
    mean, spread, _ = posteriors[i]
    centre = (mean.float() + q_mu[i]) / 2
    half = max(0.3, ((mean.float() - q_mu[i]).abs() / 2 + 3 * torch.maximum(spread.float(), q_sigma[i])).max().item())
    codes = latent.grid_codes(half, 121) + centre  # 121 x 121 codes around both
    log_p = measures.log_joint(trained, sample.images[i : i + 1], codes)[0]
    panels[f"a {sample.labels[i]}: gap {gap[i]:.2f} nats"] = (codes, log_p, q_mu[i], q_sigma[i])
figures.true_posterior_figure(panels)

# %% [markdown]
# Where the gap is large, $q$ covers only a small share of the true posterior's mass; where it is small, $q$ sits on
# the posterior and covers most of it. Is that because the true posterior is not a Gaussian, which $q$ can never
# match, or because the encoder guessed the wrong Gaussian? The encoder is one network that must guess $q$ for every
# image at once (an *amortised* posterior). For one image we can do better: search for the Gaussian that maximises
# that image's ELBO directly, starting from the encoder's guess, by gradient ascent on the one-sample ELBO (the same
# estimate training uses). Its gap is what any Gaussian must pay for this posterior; the rest of the encoder's gap
# is the price of amortisation (Cremer, Li and Duvenaud 2018).


# %% tags=["nbval-ignore-output"]
def best_gaussian(x, mu, log_var, steps=400, k=64, seed=0):
    """The Gaussian q(z) = N(mu, exp(log_var)) that maximises one image's ELBO, found by gradient ascent."""
    torch.manual_seed(seed)
    mu, log_var = mu.clone().requires_grad_(), log_var.clone().requires_grad_()
    optimizer = torch.optim.Adam([mu, log_var], lr=0.02)
    for _ in range(steps):
        z = mu + torch.exp(0.5 * log_var) * torch.randn(k, 2)  # k codes from q, reparameterised
        recon = -likelihood.log_prob(trained.decode_logits(z), x.expand(k, -1, -1, -1)).mean()
        loss = recon + vaelib.kl_to_standard_normal(mu[None], log_var[None]).sum()  # the -ELBO
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return mu.detach(), log_var.detach()


trained.requires_grad_(False)  # gradients for q's parameters only; the model stays as trained
print(f"{'':>4}{'gap of the encoder q':>22}{'gap of the best Gaussian':>26}{'amortisation':>14}")
for i in (worst, best):
    x_i, (mu_i, log_var_i) = sample.images[i : i + 1], (q_mu[i : i + 1], 2 * q_sigma[i : i + 1].log())
    optimal = best_gaussian(x_i, mu_i, log_var_i)
    best_gap = measures.posterior_kl(trained, x_i, exact[i : i + 1], q=optimal).item()
    encoder_gap = measures.posterior_kl(trained, x_i, exact[i : i + 1]).item()
    print(f"a {sample.labels[i]}{encoder_gap:22.2f}{best_gap:26.2f}{encoder_gap - best_gap:14.2f}")
    if i == worst:
        worst_gaps = encoder_gap, best_gap
trained.requires_grad_(True)
assert worst_gaps[1] < worst_gaps[0] / 2

# %% [markdown]
# For the digit with the largest gap, the best Gaussian's gap is much smaller than the encoder's: most of that gap is
# not the price of a Gaussian posterior but of an encoder that misses this image's posterior. (Both gaps are
# KL divergences computed by quadrature, as above.) The ELBO charges for each miss, and that charge is the gap. The
# importance-weighted bound forgives the miss, because it reweights $q$'s samples by how likely they really are,
# which is why it is tighter.
#
# ## Bits per dimension, and why these nats are not comparable with papers
#
# Papers often report the likelihood in **bits per dimension**: the nats per image divided by the number of pixels
# and by ln 2, so that images of different sizes compare. Its two lines, checked against `measures.bits_per_dim`:

# %% tags=["nbval-ignore-output"]
neg_log_px = exact.mean().item()  # nats per image
bits_per_dim = neg_log_px / (784 * math.log(2))  # per pixel, in bits
print(f"-log p(x) = {neg_log_px:.2f} nats per image = {bits_per_dim:.4f} bits per pixel")
assert bits_per_dim == measures.bits_per_dim(neg_log_px)

# %% [markdown]
# The Bernoulli reconstruction term treats each pixel as a coin that comes up "on" with probability $p$. MNIST's
# pixels are grey values in [0, 1], not coin flips, and for a grey value $x$ the term
# $-[x \log p + (1 - x)\log(1 - p)]$ is smallest at $p = x$, where it equals the pixel's **binary entropy**
# $H(x) = -x \log x - (1 - x) \log(1 - x)$. So even a perfect decoder pays the summed entropy of the image's pixels:
# a floor under the reconstruction term. `measures.pixel_entropy` computes it, over the whole test set:

# %%
floor = measures.pixel_entropy(mnist.test.images)
print(
    f"reconstruction floor on grey test digits: {floor.mean():.1f} nats per image (min {floor.min():.1f}, max {floor.max():.1f})"
)
binary = vaelib.core.data.binarized(mnist.test)
print(f"on binarised test digits (0/1 pixels) the floor is {measures.pixel_entropy(binary.images).mean():.1f}")

# %% [markdown]
# About 45 nats of every grey-level −ELBO in this project are unavoidable: a constant that depends on the data, not
# on the model. It also shows that the Bernoulli "likelihood" of grey pixels is not a probability of the image at
# all: grey values are not outcomes of a coin. Papers therefore **binarise** the digits (each pixel drawn as 0 or 1
# with its grey value as the probability, `vae-train --data binary`), which makes the Bernoulli likelihood a real
# probability of a binary image, and report the importance-weighted bound on binarised test digits. The pixels'
# randomness does not go away: it moves into the data, where a decoder that knows the grey value x still pays H(x)
# per pixel on average. But the number becomes a log-likelihood that any model of binarised MNIST can be compared
# on. Grey-level numbers and binarised ones measure different things, and neither can be turned into the other.
#
# ## What number should I expect?
#
# Now the numbers can be read. The table below has one source, `benchmarks/results/expected_numbers.json`, which the
# results page (`benchmarks/RESULTS.md`) renders too: this project's models measured with `vae-evaluate` on the same
# 1,000 seeded test images (standard errors after ±), and published numbers quoted from their sources, each row
# saying whether it compares with ours.

# %%
Markdown(tables.expected_numbers_table())

# %% [markdown]
# ## Recap
#
# - The model is about forty lines of `torch.nn`: the encoder maps `(B, 1, 28, 28)` images to `mu` and `log_var` of
#   shape `(B, latent_dim)`; `z = mu + sigma * eps`; the decoder maps `(B, latent_dim)` codes to `(B, 1, 28, 28)`
#   logits. `vaelib.VAE` is the same model, number for number; only its dropout mask is drawn another way.
# - log p(x) = ELBO(x) + KL(q(z|x) ‖ p(z|x)): the ELBO is a lower bound whose gap is the encoder's distance from the
#   true posterior. The loss is the negative ELBO, reconstruction + KL to the prior, in nats, estimated with one z
#   per image; our closed-form KL and reconstruction agree with `torch.distributions`.
# - Dropout and BatchNorm make training and evaluation mode different networks: the same untrained model scores
#   differently in each. Evaluations run in evaluation mode (`vaelib.evaluating`).
# - For the shipped 2-D model, on a random sample of test digits large enough to trust the mean, the
#   importance-weighted bound closes in on the exact −log p(x) from above as k grows; the ELBO's gap equals the
#   KL divergence to the true posterior, computed directly, and comes from an encoder that misses some posteriors.
# - Grey-level nats carry a floor of about 45 nats (the pixels' entropy) and are not comparable with the binarised
#   likelihoods papers report: compare like with like (the table above).
#
# Next: **03_training**.
#
# ## Exercises
#
# 1. Build `vaelib.VAE(vaelib.ModelConfig(latent_dim=16))` and print its layer table. Which layers change, and by
#    how many parameters? Check one of them by hand (a linear layer from `n` to `m` has `n * m + m` parameters).
# 2. Use `vaelib.kl_to_standard_normal` to find the KL of a 2-D posterior with `mu = (2, 0)` and `sigma = 0.1` in
#    both dimensions. Which part of the formula dominates? What does that say about confident codes far from 0?
# 3. Run the untrained model's forward pass twice without `torch.manual_seed`, once in training mode and once in
#    evaluation mode. Which outputs change from one pass to the next, and why? (Two sources of randomness: dropout
#    in training mode, and `eps`.)
# 4. Do digits with a large ELBO gap also reconstruct badly? Over the sample, compare each digit's gap with its
#    reconstruction term, and draw the three digits with the largest gaps beside their reconstructions.
#
# ### Solution 1

# %%
small, large = (tables.layer_table(vaelib.VAE(vaelib.ModelConfig(latent_dim=d))) for d in (2, 16))
for a, b in zip(small, large, strict=True):
    if a["params"] != b["params"]:
        print(f"{a['layer']:<14} {a['params']:>7,} -> {b['params']:>7,} (+{b['params'] - a['params']:,})")
assert 3136 * 16 + 16 == next(b["params"] for b in large if b["layer"] == "fc_mu")

# %% [markdown]
# Only the three layers that touch the code change: `fc_mu` and `fc_log_var` (3,136 inputs, now 16 outputs each:
# 3136 · 16 + 16 = 50,192 parameters) and the decoder's first linear layer (16 inputs, 3,136 outputs). The
# convolutions do not depend on the latent size.
#
# ### Solution 2

# %%
mu, sigma = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.1, 0.1]])
kl = vaelib.kl_to_standard_normal(mu, 2 * sigma.log()).sum().item()
parts = {
    "mu^2": mu.pow(2).sum().item(),
    "sigma^2 - 1": (sigma.pow(2) - 1).sum().item(),
    "-log sigma^2": -(2 * sigma.log()).sum().item(),
}
print(f"KL = {kl:.3f} nats = 1/2 * ({' + '.join(f'{name} {v:.3f}' for name, v in parts.items())})")
assert abs(kl - 0.5 * sum(parts.values())) < 1e-5
assert parts["-log sigma^2"] > parts["mu^2"]

# %% [markdown]
# The −log σ² term dominates (9.210 in all, half of it from each dimension), then μ² (4.000, all from the first
# dimension): a *confident* code (small σ) is expensive even at the origin, and a code far from 0 costs μ² on top. The KL term pays the
# encoder to keep its posteriors wide and near the origin, unless the reconstruction gains more than that.
#
# ### Solution 3


# %%
def outputs_twice(model):
    """Which outputs differ between two forward passes of the same batch, without reseeding."""
    with torch.no_grad():
        first, second = model(x), model(x)
    return {name: not torch.equal(a, b) for name, a, b in zip(first._fields, first, second, strict=True)}


print("training mode, changed:  ", outputs_twice(model))
with vaelib.evaluating(model):
    changed = outputs_twice(model)
print("evaluation mode, changed:", changed)
assert changed == {"logits": True, "mu": False, "log_var": False, "z": True}

# %% [markdown]
# In training mode everything changes: dropout draws a new mask in the encoder, so `mu` and `log_var` change, and
# then `z` and the logits with them. In evaluation mode the encoder is deterministic, so `mu` and `log_var` repeat
# exactly; only `eps`, and therefore `z` and the logits, are new on each pass.
#
# ### Solution 4

# %% tags=["nbval-ignore-output"]
recon = -likelihood.log_prob(trained.decode_logits(q_mu).detach(), sample.images).double()  # at each q's mean


def ranks(values):
    return values.argsort().argsort().double()


correlation = torch.corrcoef(torch.stack([ranks(gap), ranks(recon)]))[0, 1].item()
print(f"rank correlation between a digit's gap and its reconstruction term: {correlation:.2f}")
top = gap.argsort(descending=True)[:3]
print("largest gaps:", [f"{gap[i]:.1f} nats, a {sample.labels[i]}" for i in top.tolist()])
assert vaelib.quick_mode() or 0.1 < correlation < 0.6  # on the full sample: positive, and weak

# %% [markdown]
# On the full sample the rank correlation is 0.35: digits whose code draws them badly tend to have larger gaps,
# but weakly. The gap measures how well the encoder finds each digit's posterior, the reconstruction term how well
# the code at q's mean draws the digit, and the two are different things. The three digits with the largest gaps,
# and what the code at q's mean draws for each:

# %%
figures.mosaic_figure(
    torch.cat([sample.images[top], latent.reconstruct(trained, sample.images[top])]),
    nrow=3,
    title="largest gaps: digits (top), reconstructions (bottom)",
    scale=1.0,
)

# %% [markdown]
# In the stored run all three are 9s; the first and the third come back as a blurred shape of another class, the
# second as a 9. So a large gap often, but not always, goes with a poor reconstruction. The first is the digit of
# the true-posterior figure above: its gap comes from an encoder that put q far from where the posterior lies.
#
# ## Further reading
#
# - D. P. Kingma, M. Welling, *Auto-Encoding Variational Bayes*, ICLR 2014 (the VAE and the reparameterisation trick).
# - D. J. Rezende, S. Mohamed, D. Wierstra, *Stochastic Backpropagation and Approximate Inference in Deep Generative
#   Models*, ICML 2014 (the same model, found independently).
# - D. P. Kingma, M. Welling, *An Introduction to Variational Autoencoders*, Foundations and Trends in Machine
#   Learning, 2019 (the ELBO's derivation and its gap, chapter 2).
# - Y. Burda, R. Grosse, R. Salakhutdinov, *Importance Weighted Autoencoders*, ICLR 2016 (the bound L_k, and the
#   binarised-MNIST likelihoods of the table).
# - C. Cremer, X. Li, D. Duvenaud, *Inference Suboptimality in Variational Autoencoders*, ICML 2018 (the amortisation
#   gap: an encoder that misses posteriors it could fit).
# - S. Ioffe, C. Szegedy, *Batch Normalization*, ICML 2015; N. Srivastava et al., *Dropout*, JMLR 2014 (the two
#   layers that make training and evaluation mode differ).
