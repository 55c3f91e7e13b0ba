"""The evaluation of a reference run, written to its manifest when training ends, and the check that a later
evaluation (the chapter's, the tests') agrees with it within Monte Carlo error.

Per evaluation image i and replica r (shapes (R, n)):

* ``elbo``: the ELBO with the closed-form KL, averaged over S = ``elbo_samples`` draws z ~ q(z | x) (Gaussian latents:
  ``deep.ELBO(S)``; binary latents, a ``deep.BernoulliVAE``: ``deep.DiscreteELBO("reinforce", S)``, whose value is
  the same Monte Carlo reconstruction term with the closed-form KL);
* ``log_px``: the importance-sampled estimate log p(x) ~ logsumexp_j log w_j - log k, w_j = p(x, z_j) / q(z_j | x),
  k = ``loglik_samples`` (Burda et al. 2016), a stochastic lower bound;
* ``log_px_mc_se``: its first-order Monte Carlo SE from the same weights, sd(w) / (sqrt(k) mean(w)) (a diagnostic:
  it assumes the weights have a finite variance, which nothing checks for a trained network).

Agreement (:func:`agreement`): a new evaluation of the same models on the same images with other draws differs
from the stored one by Monte Carlo noise only, so the per-image differences d_i (the image-to-image spread cancels)
have mean 0; z = mean(d) / (sd(d) / sqrt(n)) is then about N(0, 1), and |z| > 4.5 says the models, the images or the
code are not those of the manifest.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from helpers.common.stats import mean_and_se
from helpers.common.validation import check_instance
from helpers.deep.bernoulli_vae import BernoulliVAE
from helpers.deep.discrete_objectives import DiscreteELBO, draw_uniforms
from helpers.deep.discrete_objectives import log_weights as discrete_log_weights
from helpers.deep.objectives import ELBO, log_weights
from helpers.deep.reference.catalogue import Entry, data

#: the per-image values a manifest keeps (rounded to ROUND decimals: far below their Monte Carlo SE)
METRICS = ("elbo", "log_px")
ROUND = 4
#: (images of one log p(x) chunk) x k stays below this many (sample, image) pairs: bounded memory
PAIRS_PER_CHUNK = 32_768


@torch.no_grad()
def _log_px(model: nn.Module, x: Tensor, k: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(log p(x) estimate, its delta-method MC SE), each (B,), from k importance weights per image."""
    estimates, ses = [], []
    step = max(1, PAIRS_PER_CHUNK // k)
    for i in range(0, len(x), step):
        if isinstance(model, BernoulliVAE):  # binary latents (the discrete chapter)
            noise = draw_uniforms(model, x[i : i + step], k, generator)
            log_w = discrete_log_weights(model, x[i : i + step], noise).double()  # (k, b)
        else:
            log_w = log_weights(model, x[i : i + step], k, generator=generator).double()  # (k, b)
        estimates.append(torch.logsumexp(log_w, 0) - math.log(k))
        w = torch.exp(log_w - log_w.max(0).values)  # rescaled: sd / mean is unchanged
        ses.append(w.std(0) / (math.sqrt(k) * w.mean(0)))
    return torch.cat(estimates), torch.cat(ses)


@torch.no_grad()
def evaluate(e: Entry, models: list[nn.Module], x_eval: Tensor | None = None) -> dict[str, Tensor]:
    """Per-image ``elbo``, ``log_px`` and ``log_px_mc_se`` of the R models of run ``e`` on its evaluation images
    (default :func:`helpers.deep.reference.data`), each float64 (R, n); replica r draws from
    ``torch.Generator().manual_seed(e.evaluation.seed + r)``."""
    check_instance(e, "e", Entry, how="an entry of the catalogue, deep.reference.entry(chapter, name)")
    ev = e.evaluation
    x_eval = data(e)[2] if x_eval is None else x_eval
    out: dict[str, list[Tensor]] = {"elbo": [], "log_px": [], "log_px_mc_se": []}
    for r, model in enumerate(models):
        model.eval()
        device = next(model.parameters()).device
        x = model.check_input(x_eval.to(device), "x_eval")
        g = torch.Generator(device=device).manual_seed(ev.seed + r)
        # binary latents: the Monte Carlo reconstruction term and the closed-form KL (the estimator sets only the
        # gradient, and nothing here differentiates)
        binary = isinstance(model, BernoulliVAE)
        objective = DiscreteELBO("reinforce", ev.elbo_samples) if binary else ELBO(ev.elbo_samples)
        out["elbo"].append(torch.cat([objective(model, x[i : i + 250], generator=g).double().cpu()
                                      for i in range(0, len(x), 250)]))  # fmt: skip
        log_px, se = _log_px(model, x, ev.loglik_samples, g)
        out["log_px"].append(log_px.cpu())
        out["log_px_mc_se"].append(se.cpu())
    return {k: torch.stack(v) for k, v in out.items()}


def summary(e: Entry, values: dict[str, Tensor]) -> dict:
    """The manifest's ``evaluation`` block: per seed the mean over images ± SE over images (which includes the
    Monte Carlo noise), the mean over seeds ± SE across seeds, and the per-image values (rounded)."""
    per_seed = []
    for r, seed in enumerate(e.run.seeds):
        row: dict[str, object] = {"seed": seed}
        for metric in METRICS:
            mean, se = mean_and_se(values[metric][r])
            row[metric], row[f"{metric}_se"] = float(mean), float(se)
        row["log_px_mc_se_median"] = float(values["log_px_mc_se"][r].median())
        per_seed.append(row)
    across = {}
    for metric in METRICS:
        means = values[metric].mean(-1)
        se = float(means.std() / math.sqrt(len(means))) if len(means) > 1 else math.nan
        across[metric] = {"mean": float(means.mean()), "se_across_seeds": se}
    return {
        "per_seed": per_seed,
        "across_seeds": across,
        "per_image": {
            **{m: [[round(float(v), ROUND) for v in row] for row in values[m]] for m in METRICS},
            "log_px_mc_se": [[float(f"{float(v):.4g}") for v in row] for row in values["log_px_mc_se"]],
        },
    }


def agreement(manifest: dict, values: dict[str, Tensor]) -> list[dict]:
    """For each seed and metric, the paired per-image difference ``values - manifest``: its mean, its SE (sd / sqrt
    n) and z = mean / SE (module docstring). ``values`` as returned by :func:`evaluate` (R, n), on the first n of the
    manifest's evaluation images (a chapter may evaluate fewer), with the same ``loglik_samples`` k (the bias of the
    log p(x) estimate depends on k; the ELBO's expectation does not depend on the number of draws)."""
    stored = manifest["evaluation"]["per_image"]
    rows = []
    for metric in METRICS:
        old = torch.tensor(stored[metric], dtype=torch.float64)
        new = torch.as_tensor(values[metric], dtype=torch.float64)
        if new.ndim != 2 or new.shape[0] != old.shape[0] or not 2 <= new.shape[1] <= old.shape[1]:
            raise ValueError(
                f"values[{metric!r}] has shape {tuple(new.shape)}; the manifest holds {tuple(old.shape)} (seeds, "
                "images): evaluate the same R models on the first n >= 2 of its evaluation images."
            )
        old = old[:, : new.shape[1]]
        for r, seed in enumerate(manifest["seeds"]):
            mean, se = mean_and_se(new[r] - old[r])
            rows.append({"seed": seed, "metric": metric, "difference": float(mean), "se": float(se),
                         "z": float(mean / se) if se > 0 else (0.0 if mean == 0 else math.inf)})  # fmt: skip
    return rows
