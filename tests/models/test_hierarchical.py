"""HierarchicalModel against independent references: torch.distributions, autograd, Monte Carlo, the graph itself."""

from __future__ import annotations

import pytest
import torch
from _shared import Z_TOL, generator
from torch.distributions import Gamma, Normal

from helpers import common, models

DT = torch.float64


def _model_and_theta(k: int = 4, n: int = 5, seed: int = 0) -> tuple[models.HierarchicalModel, torch.Tensor]:
    model = models.HierarchicalModel.simulate(k, n, generator(seed))
    theta = model.init() + 0.4 * torch.randn(model.num_params, dtype=DT, generator=generator(seed + 1))
    return model, theta


def _log_joint(model: models.HierarchicalModel, normals: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """log p(w_1, w_2, z, v, y) written with torch.distributions from the model's definition, (S,)."""
    w1, w2, z = normals[:, 0], normals[:, 1], normals[:, 2:]
    out = Normal(0.0, 1.0).log_prob(w1) + Normal(0.0, 1.0).log_prob(w2)
    out = out + Gamma(torch.tensor(model.a_v, dtype=DT), torch.tensor(model.b_v, dtype=DT)).log_prob(v)  # rate b_v
    out = out + Normal(w1[:, None], 1.0).log_prob(z).sum(-1)
    loc = z[:, :, None] + w2[:, None, None] * model.t  # (S, K, N)
    return out + Normal(loc, v.rsqrt()[:, None, None]).log_prob(model.y).sum((-1, -2))


def _log_q(model: models.HierarchicalModel, theta: torch.Tensor, normals: torch.Tensor, v: torch.Tensor):
    k = model.num_groups
    normal = Normal(theta[: k + 2], theta[k + 2 : 2 * k + 4].exp()).log_prob(normals).sum(-1)
    return normal + Gamma(theta[-2].exp(), theta[-1].exp()).log_prob(v)


def test_log_factors_and_log_q_match_torch_distributions():
    model, theta = _model_and_theta()
    normals, v = model.sample(theta, 40, generator(2))
    assert normals.shape == (40, model.num_groups + 2) and v.shape == (40,)
    torch.testing.assert_close(model.log_factors(normals, v).sum(-1), _log_joint(model, normals, v))
    torch.testing.assert_close(model.log_q_groups(theta, normals, v).sum(-1), _log_q(model, theta, normals, v))


def test_score_matches_autograd_of_log_q():
    model, theta = _model_and_theta()
    normals, v = model.sample(theta, 4, generator(3))
    score = model.score(theta, normals, v)
    for s in range(4):
        t = theta.clone().requires_grad_(True)
        (auto,) = torch.autograd.grad(_log_q(model, t, normals[s : s + 1], v[s : s + 1]).sum(), t)
        torch.testing.assert_close(score[s], auto)


def test_blanket_is_exactly_the_factors_that_depend_on_each_group():
    """Factor f is in group g's blanket iff d log p_f / d z_g is not identically zero (autograd on the factors)."""
    model, theta = _model_and_theta(k=3, n=2)
    normals, v = model.sample(theta, 1, generator(4))
    normals, v = normals.clone().requires_grad_(True), v.clone().requires_grad_(True)
    factors = model.log_factors(normals, v)[0]  # (F,)
    depends = torch.zeros((model.num_groups + 3, factors.numel()), dtype=torch.bool)
    for f in range(factors.numel()):
        d_normals, d_v = torch.autograd.grad(factors[f], (normals, v), retain_graph=True, allow_unused=True)
        depends[:-1, f] = d_normals[0] != 0 if d_normals is not None else False
        depends[-1, f] = bool(d_v is not None and d_v[0] != 0)
    assert torch.equal(depends, model.blanket())
    assert model.param_groups().tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 5]


def test_exact_elbo_matches_monte_carlo():
    model, theta = _model_and_theta()
    normals, v = model.sample(theta, 50_000, generator(5))
    mean, se = common.mean_and_se(_log_joint(model, normals, v) - _log_q(model, theta, normals, v))
    assert abs(float(mean - model.exact_elbo(theta))) < Z_TOL * float(se)


def test_bad_input_raises_a_value_error_naming_the_argument():
    y = torch.zeros((2, 3), dtype=DT)
    with pytest.raises(ValueError, match="shape"):
        models.HierarchicalModel(y=y, t=torch.zeros((2, 4), dtype=DT))
    with pytest.raises(ValueError, match="b_v"):
        models.HierarchicalModel(y=y, t=y, b_v=-1.0)
    with pytest.raises(ValueError, match="y"):
        models.HierarchicalModel(y=torch.full((2, 3), float("nan"), dtype=DT), t=y)
