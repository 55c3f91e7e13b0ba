"""Self-check of the gradient-estimators chapter: correct terms pass; a wrong sign, the missing -1/scale, f taken
at other draws and a biased estimator are each named; a shape error is said."""

from __future__ import annotations

import pytest
import torch

from helpers import check, estimators


def _terms(variant: str = ""):
    def answer(f, loc, scale, z):
        d = z - loc
        psi = torch.cat([d / scale**2, (0 if variant == "no -1/scale" else -1 / scale) + d**2 / scale**3], -1)
        if variant == "other draws":  # f at an independent draw: E[f(z') psi(z)] = E f * E psi = 0
            g = torch.Generator().manual_seed(99)
            fz = f(loc + scale * torch.randn(z.shape, generator=g, dtype=z.dtype))
        elif variant == "biased":
            fz = f(z) + 3.0 * z[:, 0] ** 2  # depends on z: a "baseline" that is not constant biases the estimate
        else:
            fz = f(z)
        out = fz[:, None] * psi
        if variant == "baseline":  # a constant baseline keeps the mean: unbiased, but not the plain terms
            out = (fz[:, None] - 4.0) * psi
        return {"sign": -out, "transposed": out.T, "score only": psi}.get(variant, out)

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("sign", "wrong sign"),
        ("no -1/scale", "-1/scale"),
        ("score only", "multiply it by f(z)"),
        ("other draws", "averages to zero"),
        ("biased", "is biased"),
        ("baseline", "is unbiased"),
        ("transposed", "shape (4, 20000)"),
    ],
)
def test_score_function_check_names_each_mistake(variant, says):
    feedback = check.gradient_estimators.score_function(_terms(variant))
    assert not feedback and says in feedback.message, feedback


def test_score_function_check_passes_the_course_estimator():
    assert check.gradient_estimators.score_function(_terms())

    def with_the_helper(f, loc, scale, z):
        """The course's score_function_terms on a model whose log-joint is f + log q: its f - log q is then f."""

        class Model:
            latent_dim, support = 2, "all of R^2"

            def log_joint(self, z):
                return f(z) + torch.distributions.Normal(loc, scale).log_prob(z).sum(-1)

            def outside_support(self, z):
                return torch.zeros(z.shape[:-1], dtype=torch.bool)

        return torch.cat(estimators.score_function_terms(Model(), loc, scale, (z - loc) / scale), -1)

    feedback = check.gradient_estimators.score_function(with_the_helper)
    assert feedback, feedback


def test_the_exact_gradient_behind_the_bias_verdict():
    """The verdicts use d/d(loc, scale) E_q sum (z - c)^2 = (2 (loc - c), 2 scale): check it by quadrature-free
    Monte Carlo with the reparameterization estimator on 400,000 draws (an independent estimator)."""
    from helpers.check import gradient_estimators as module

    loc = torch.tensor([1.2, 0.3], dtype=torch.float64, requires_grad=True)
    scale = torch.tensor([0.7, 1.5], dtype=torch.float64, requires_grad=True)
    eps = torch.randn((400_000, 2), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    grad = torch.autograd.grad(module._f(loc + scale * eps).mean(), (loc, scale))
    exact = torch.cat([2 * (loc - module._C), 2 * scale]).detach()
    torch.testing.assert_close(torch.cat(grad), exact, rtol=0, atol=0.02)
