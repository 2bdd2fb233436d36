"""Training settings and one epoch: config precedence, recipes, the KL weight's warm-up, train_epoch's mode."""

import itertools
import math
from dataclasses import replace

import pytest
import torch

from vaelib.core import training
from vaelib.core.errors import VAEError
from vaelib.core.model import VAE
from vaelib.core.training import QUICK_TRAINING, RECIPES, TrainConfig, make_config

CONFIG = make_config("fast", epochs=2, batch_size=64, save_every=1, seed=3)


def test_make_config_precedence():
    """The original defaults, then the recipe, then quick mode, then explicit settings (they win)."""
    assert make_config() == TrainConfig()
    fast = make_config("fast")
    assert (fast.learning_rate, fast.schedule, fast.batch_size, fast.epochs) == (8e-3, "onecycle", 64, 500)
    assert fast == replace(TrainConfig(), **RECIPES["fast"])
    quick = make_config("fast", quick=True)
    assert (quick.epochs, quick.train_images, quick.save_every, quick.learning_rate) == (2, 2048, 1, 8e-3)
    assert QUICK_TRAINING == {"epochs": 2, "train_images": 2048, "save_every": 1}
    mine = make_config("fast", True, epochs=6, batch_size=32, save_every=3)
    mine_by_hand = {**RECIPES["fast"], "epochs": 6, "batch_size": 32, "save_every": 3, "train_images": 2048}
    assert mine == replace(TrainConfig(), **mine_by_hand) and mine.batch_size == 32 and mine.schedule == "onecycle"
    assert make_config("original", False, learning_rate=1e-3).learning_rate == 1e-3


def test_unknown_recipe_is_refused():
    with pytest.raises(VAEError, match="unknown recipe 'slow': use original or fast"):
        make_config("slow")


def test_train_epoch_leaves_model_training(small_mnist):
    """train_epoch trains: the model ends in training mode (even if it came in eval mode), the weights move, the
    schedule takes one step per batch, the shuffle generator moves on; the means keep the Losses relations."""
    config = replace(CONFIG, beta=0.25, schedule="constant")
    torch.manual_seed(0)
    model = VAE().eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    generator = torch.Generator().manual_seed(0)
    digits = small_mnist.train.head(256)
    means = training.train_epoch(model, optimizer, scheduler, digits, config, generator, epoch=1)
    assert model.training and torch.is_grad_enabled()
    assert scheduler.last_epoch == math.ceil(256 / config.batch_size)
    assert not torch.equal(model.fc_mu.weight, weights["fc_mu.weight"])
    assert not torch.equal(generator.get_state(), torch.Generator().manual_seed(0).get_state())
    assert set(means) == {"objective", "neg_elbo", "recon", "kl"}
    assert means["objective"] == pytest.approx(means["recon"] + 0.25 * means["kl"], rel=1e-6)
    assert means["neg_elbo"] == pytest.approx(means["recon"] + means["kl"], rel=1e-6)


# ----- the KL warm-up


def test_train_config_new_fields():
    """No warm-up and grey digits by default (the original design); both can be set like any other setting."""
    config = TrainConfig()
    assert (config.kl_warmup, config.data) == (0, "grey")
    mine = make_config("fast", True, kl_warmup=3, data="binary")
    assert mine == replace(make_config("fast", True), kl_warmup=3, data="binary")


def test_kl_weight_without_warmup():
    """kl_warmup = 0: the weight is beta at every point of every epoch, the very first step included."""
    for beta in (0.0, 0.5, 1.0, 4.0):
        config = TrainConfig(beta=beta)
        for epoch in (1, 2, 10, 500):
            assert training.kl_weight(config, epoch) == beta
            assert all(training.kl_weight(config, epoch, done) == beta for done in (0.0, 0.01, 0.5, 1.0))


def test_kl_weight_ramps_linearly():
    """beta = 0.8 over 4 epochs: 0 at the very start, beta * t / 4 after t epochs of training (hand-written values),
    beta once 4 epochs are done and ever after; non-decreasing and never above beta."""
    config = TrainConfig(beta=0.8, kl_warmup=4)
    assert training.kl_weight(config, 1, 0.0) == 0.0
    by_hand = {
        (1, 0.25): 0.05, (1, 1.0): 0.2, (2, 0.5): 0.3, (3, 1.0): 0.6, (4, 0.0): 0.6,
        (4, 0.5): 0.7, (4, 1.0): 0.8, (5, 0.0): 0.8, (5, 0.5): 0.8, (100, 1.0): 0.8,
    }  # fmt: skip
    for (epoch, done), weight in by_hand.items():
        assert training.kl_weight(config, epoch, done) == pytest.approx(weight, abs=1e-12), (epoch, done)
    assert training.kl_weight(config, 2) == pytest.approx(0.4)  # done defaults to 1: the end of the epoch
    grid = [(epoch, step / 8) for epoch in range(1, 8) for step in range(9)]
    weights = [training.kl_weight(config, epoch, done) for epoch, done in grid]
    assert weights == sorted(weights) and max(weights) == 0.8
    ramp = [w for (epoch, done), w in zip(grid, weights, strict=True) if epoch - 1 + done <= 4]
    steps = [b - a for a, b in itertools.pairwise(ramp) if b != a]
    assert steps == pytest.approx([0.8 / 32] * len(steps)) and len(steps) == 32  # equal steps: linear
    assert training.kl_weight(TrainConfig(beta=2.0, kl_warmup=1), 1000, 1.0) == 2.0


@pytest.mark.parametrize(
    "setting, named", [({"data": "colour"}, "grey or binary"), ({"schedule": "cosine"}, "constant or onecycle")]
)
def test_unknown_data_kind_or_schedule_is_refused(setting, named):
    """A config with an unknown data kind or schedule is refused when it is made: one line naming the choices."""
    with pytest.raises(VAEError) as refused:
        make_config("fast", **setting)
    message = str(refused.value)
    assert "\n" not in message and repr(next(iter(setting.values()))) in message and named in message


# ----- the new vae-train flags
