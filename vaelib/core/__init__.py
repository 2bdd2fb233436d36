"""The core a learner reads: it imports torch, tqdm and the standard library (torchvision only to download MNIST).

- model.py: the VAE (encoder, decoder, reparameterisation), the Gaussian densities, the negative ELBO, one training step
- likelihood.py: p(x|z), a Bernoulli per pixel: the one place that formula is written
- data.py: MNIST as tensors, the fixed train/validation/test split, batches, binarised digits
- training.py: TrainConfig and its recipes, one epoch of the training step, the KL weight
- measures.py: the −ELBO, the importance-weighted bound, the exact likelihood of a 2-D model, active units, Fréchet
  distance, class entropy
- latent.py: encode, reconstruct, interpolate, decode codes; the aggregate posterior's density
- conditional.py: "generate a 7": densities of each class in the latent space
- classifier.py: the small classifier that judges generated digits
- scorecard.py: everything vae-evaluate reports, as one dict
- checkpoints.py: reading checkpoints, and where the shipped models and your best model live
- device.py, settings.py, errors.py: the device, paths and quick mode, one-line errors
"""
