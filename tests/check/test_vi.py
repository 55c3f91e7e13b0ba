"""Self-checks of the VI chapters: a correct answer passes, each published mistake is named, a shape error is said."""

from __future__ import annotations

import pytest
import torch

from helpers import check, models, vi
from helpers.common.densities import normal_log_prob

# ---------------------------------------------------------------------------------------------- elbo


def _elbo(variant: str = ""):
    def answer(log_lik, log_prior, loc, scale, eps):
        s = scale**2 if variant == "variance" else scale
        z = loc + s * eps
        terms = log_lik(z) + (0 if variant == "no prior" else log_prior(z))
        lq = normal_log_prob(z, loc, s)
        terms = terms + {"no entropy": 0, "plus log q": lq}.get(variant, -lq)
        return {"per draw": terms, "sum": terms.sum()}.get(variant, terms.mean())

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("no prior", "misses the prior term"),
        ("no entropy", "misses the entropy term"),
        ("plus log q", "sign of the entropy term"),
        ("variance", "variance"),
        ("per draw", "one value per draw"),
        ("sum", "sums over the S draws"),
    ],
)
def test_elbo_check_names_each_mistake(variant, says):
    feedback = check.elbo.elbo_estimate(_elbo(variant))
    assert not feedback and says in feedback.message, feedback


def test_elbo_check_passes_a_correct_answer_and_reports_errors():
    assert check.elbo.elbo_estimate(_elbo()), check.elbo.elbo_estimate(_elbo())
    assert "correct" in str(check.elbo.elbo_estimate(_elbo()))
    wrong_shape = check.elbo.elbo_estimate(lambda *args: torch.zeros(3, 2))
    assert not wrong_shape and "shape (3, 2)" in wrong_shape.message
    raised = check.elbo.elbo_estimate(lambda *args: 1 / 0)
    assert not raised and "ZeroDivisionError" in raised.message


def test_the_elbo_reference_matches_the_exact_elbo_of_the_conjugate_model():
    """Independent check of the reference: averaged over many draws, its value is the closed-form ELBO."""
    from helpers.check import elbo as module

    loc, scale = torch.tensor([0.9, -0.7], dtype=torch.float64), torch.tensor([0.5, 2.0], dtype=torch.float64)
    eps = torch.randn((400_000, 2), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    z = loc + scale * eps
    terms = module._log_likelihood(z) + module._log_prior(z) - normal_log_prob(z, loc, scale)
    model = models.ConjugateGaussian(module._X)
    # E_q log p(x, z) for Gaussian q, prior N(0, I), likelihood N(z, I), plus the entropy, in closed form
    n = module._X.shape[0]
    e_lik = (
        -0.5 * ((module._X - loc) ** 2).sum() - 0.5 * n * (scale**2).sum() - n * torch.log(torch.tensor(2 * torch.pi))
    )
    e_prior = -0.5 * (loc**2 + scale**2).sum() - torch.log(torch.tensor(2 * torch.pi))
    entropy = (0.5 * torch.log(2 * torch.pi * torch.e * scale**2)).sum()
    exact = e_lik + e_prior + entropy
    assert abs(float(terms.mean() - exact)) < 4.5 * float(terms.std() / len(terms) ** 0.5)
    torch.testing.assert_close(module._log_likelihood(z[:5]) + module._log_prior(z[:5]), model.log_joint(z[:5]))


# ---------------------------------------------------------------------------------------------- cavi


def _q_tau(variant: str = ""):
    def answer(x, prior, mu_n, lambda_n):
        n = len(x)
        a = prior.a0 + (n / 2 if variant == "a" else (n + 1) / 2)
        sq = ((x - mu_n) ** 2).sum() + (0 if variant == "no var" else n / lambda_n)
        prior_term = 0 if variant == "no prior" else prior.lambda0 * ((mu_n - prior.mu0) ** 2 + 1 / lambda_n)
        if variant == "no var":
            prior_term = prior.lambda0 * (mu_n - prior.mu0) ** 2
        b = prior.b0 + 0.5 * (sq + prior_term)
        return (a, 1 / b) if variant == "scale" else (a, b)

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("scale", "scale and rate mixed up"), ("no prior", "prior term"), ("no var", "variance of q(mu)"), ("a", "1/2")],
)
def test_cavi_check_names_each_mistake(variant, says):
    feedback = check.cavi.q_tau_update(_q_tau(variant))
    assert not feedback and says in feedback.message, feedback


def test_cavi_check_passes_a_correct_answer_and_refuses_a_single_number():
    assert check.cavi.q_tau_update(_q_tau()), check.cavi.q_tau_update(_q_tau())
    assert not check.cavi.q_tau_update(lambda x, prior, m, lam: 1.0)
    assert "pair (a_N, b_N)" in check.cavi.q_tau_update(lambda x, prior, m, lam: 1.0).message


def test_the_cavi_reference_is_the_fixed_point_of_the_course_cavi():
    """Independent check of the reference: at CAVI's converged q(mu), the update returns CAVI's own q(tau)."""
    x = torch.randn(30, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 2
    prior = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)
    fit = vi.cavi_normal_gamma(x, prior, 200)
    a_b = check.cavi.reference_q_tau(x, prior, fit.mu_N, fit.lambda_N)
    torch.testing.assert_close(a_b, torch.tensor([fit.a_N, fit.b_N], dtype=torch.float64))


# ---------------------------------------------------------------------------------------------- bbvi


def _score(variant: str = ""):
    def answer(z, loc, scale):
        d = z - loc
        second = {
            "precision": scale**2 / 2 - d**2 / 2,
            "variance": -1 / (2 * scale**2) + d**2 / (2 * scale**4),
            "no -1/scale": d**2 / scale**3,
            "log scale": -1 + d**2 / scale**2,
        }.get(variant, -1 / scale + d**2 / scale**3)
        out = torch.stack([d / scale**2, second], -1)
        return -out if variant == "sign" else out

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("precision", "precision"), ("variance", "variance"), ("no -1/scale", "-1/scale"), ("log scale", "log scale"),
     ("sign", "wrong sign")],
)  # fmt: skip
def test_bbvi_check_names_each_mistake(variant, says):
    feedback = check.bbvi.gaussian_score(_score(variant))
    assert not feedback and says in feedback.message, feedback


def test_bbvi_check_passes_autograd_and_reports_a_shape_error():
    def by_autograd(z, loc, scale):
        loc, scale = loc.expand_as(z).clone().requires_grad_(), scale.expand_as(z).clone().requires_grad_()
        return torch.stack(
            torch.autograd.grad(torch.distributions.Normal(loc, scale).log_prob(z).sum(), (loc, scale)), -1
        )

    assert check.bbvi.gaussian_score(by_autograd), check.bbvi.gaussian_score(by_autograd)
    assert check.bbvi.gaussian_score(lambda z, l, s: tuple(_score()(z, l, s).T))  # a pair of columns is accepted
    feedback = check.bbvi.gaussian_score(lambda z, l, s: _score()(z, l, s).T)
    assert not feedback and "shape (2, 50)" in feedback.message


# ---------------------------------------------------------------------------------------------- natural gradients


def _fisher(variant: str = ""):
    def answer(alpha, s):
        psi1 = torch.special.polygamma(1, alpha)
        cross = {"sign": -1 / s, "no jacobian": -s}.get(variant, 1 / s)
        last = {"no jacobian": alpha * s**2}.get(variant, alpha / s**2)
        if variant == "slip":  # J^T F(eta) J with J = diag(1, s^2) where diag(1, 1/s^2) belongs
            cross, last = s**3, alpha * s**6
        f = torch.stack([torch.stack([psi1, cross], -1), torch.stack([cross, last], -1)], -2)
        return f[0] if variant == "one" else f

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("slip", "J^-1 = J"), ("sign", "scale and rate mixed up"), ("no jacobian", "without the Jacobian")],
)
def test_natural_gradient_check_names_each_mistake(variant, says):
    feedback = check.natural_gradients.gamma_fisher_scale(_fisher(variant))
    assert not feedback and says in feedback.message, feedback


def test_natural_gradient_check_passes_the_closed_form_and_reports_a_shape_error():
    assert check.natural_gradients.gamma_fisher_scale(_fisher())
    feedback = check.natural_gradients.gamma_fisher_scale(_fisher("one"))
    assert not feedback and "shape (2, 2)" in feedback.message and "(B, 2, 2)" in feedback.message


def test_a_check_refuses_what_is_not_a_function():
    with pytest.raises(TypeError, match="answer must be callable"):
        check.elbo.elbo_estimate(3.0)
