"""The β models' table: `vae-evaluate --k 0 --json` on every shipped model of notebook 06's family, into one JSON.

    VAELIB_DATA_DIR=... python benchmarks/beta_models.py    # writes benchmarks/results/beta_models.json

Each model is scored by the command a learner would type, `vae-evaluate --k 0 --json --checkpoint
vaelib/weights/FILE` (all 10,000 test images, 10,000 samples from the prior, no importance-weighted bound), run as a
child process from the repository root; its JSON output is stored whole under the model's file name, with the command.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import machine
import torch

ROOT = machine.RESULTS.parent.parent
MODELS = {  # file -> the settings that set it apart (all share one recipe: vaelib/weights/README.md)
    "vae_latent2_beta0.pth": {"latent_dim": 2, "beta": 0},
    "vae_latent2_beta0.5.pth": {"latent_dim": 2, "beta": 0.5},
    "vae_latent2_beta1.pth": {"latent_dim": 2, "beta": 1},
    "vae_latent2_beta2.pth": {"latent_dim": 2, "beta": 2},
    "vae_latent2_beta4.pth": {"latent_dim": 2, "beta": 4},
    "vae_latent2_beta8.pth": {"latent_dim": 2, "beta": 8},
    "vae_latent16_beta0.pth": {"latent_dim": 16, "beta": 0},
    "vae_latent16.pth": {"latent_dim": 16, "beta": 1},
    "vae_latent16_beta8.pth": {"latent_dim": 16, "beta": 8},
    "vae_latent16_beta8_warmup.pth": {"latent_dim": 16, "beta": 8, "kl_warmup": 10},
    "vae_latent16_beta8_freebits0.5.pth": {"latent_dim": 16, "beta": 8, "free_bits": 0.5},
}


def evaluate(name: str) -> dict:
    """One model's `vae-evaluate --k 0 --json` output (the command's own process, as a learner runs it)."""
    command = ["vae-evaluate", "--k", "0", "--json", "--checkpoint", f"vaelib/weights/{name}"]
    script = Path(sys.executable).parent / command[0]  # the command installed beside this interpreter
    done = subprocess.run([str(script), *command[1:]], cwd=ROOT, capture_output=True, text=True, check=True)
    return {"command": " ".join(command), "settings": MODELS[name], "result": json.loads(done.stdout)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--models", nargs="+", choices=list(MODELS), default=list(MODELS), metavar="FILE", help="default: all"
    )
    p.add_argument("--output", default=str(machine.RESULTS / "beta_models.json"))
    args = p.parse_args()
    result = {"machine": machine.describe(torch.device("cpu")), "models": {}}  # write_json adds the command
    for name in args.models:
        entry = evaluate(name)
        r = entry["result"]
        print(
            f"{name:<36} rate {r['kl']:6.2f}  distortion {r['recon']:7.2f}  −ELBO {r['neg_elbo']:7.2f}  "
            f"active {r['active_units']:>2} of {r['latent_dim']:<2}  Fréchet {r['frechet_distance']:6.1f}  "
            f"({r['seconds']:.0f} s)",
            flush=True,
        )
        result["models"][name] = entry
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
