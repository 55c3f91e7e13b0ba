"""Self-checks of the VI chapters. Each check passes a correct answer in float64, in float32 (what torch.zeros and
torch.tensor give) and written as a Python loop, and its valid alternatives; each published mistake is named; an
answer off by a little more than its dtype's rounding, a shape error and a crash are said."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from helpers import check, models, vi
from helpers.common.densities import normal_log_prob

F32, F64 = torch.float32, torch.float64


def _precision(dtype: torch.dtype) -> str:
    return "agrees to float32 precision" if dtype == F32 else "agrees to float64 precision"


def _nudged(answer, by: float = 1e-3):
    """``answer`` with the last entry of its result moved by ``by`` times the result's largest entry: a correct
    answer off by far less than any published mistake, which a check must still refuse."""

    def nudged(*args):
        value = answer(*args)
        if isinstance(value, tuple):
            return (*value[:-1], value[-1] + by * abs(float(value[-1])))
        value = value.clone()
        value.view(-1)[-1] += by * float(value.abs().max())
        return value

    return nudged


# ---------------------------------------------------------------------------------------------- elbo


def _elbo(variant: str = "", dtype: torch.dtype = F64):
    def answer(log_lik, log_prior, loc, scale, eps):
        loc, scale, eps = loc.to(dtype), scale.to(dtype), eps.to(dtype)
        if variant == "own noise":
            eps = torch.randn(eps.shape, dtype=dtype)
        if variant == "ignores eps":  # its own draws, always the same ones
            eps = torch.randn(eps.shape, generator=torch.Generator().manual_seed(5), dtype=dtype)
        s = scale**2 if variant == "variance" else scale
        z = loc + s * eps
        ll, lp, lq = log_lik(z).to(dtype), log_prior(z).to(dtype), Normal(loc, s).log_prob(z).sum(-1)
        if variant == "closed-form entropy":
            return (ll + lp).mean() + Normal(loc, scale).entropy().sum()
        if variant == "closed-form KL":
            return ll.mean() - kl_divergence(Normal(loc, scale), Normal(0.0, 1.0)).sum()
        terms = ll + (0 if variant == "no prior" else lp) + {"no entropy": 0, "plus log q": lq}.get(variant, -lq)
        out = {"per draw": terms, "sum": terms.sum(), "loss": -terms.mean(), "twice": 2 * terms.mean()}
        return out.get(variant, terms.mean())

    return answer


def _elbo_loop(dtype: torch.dtype):
    def answer(log_lik, log_prior, loc, scale, eps):
        total = torch.zeros((), dtype=dtype)
        for e in eps:  # one draw at a time
            z = (loc + scale * e)[None]
            total = total + (log_lik(z) + log_prior(z) - Normal(loc, scale).log_prob(z).sum(-1))[0].to(dtype)
        return total / len(eps)

    return answer


@pytest.mark.parametrize("dtype", [F64, F32])
def test_elbo_check_passes_correct_answers_at_their_precision(dtype):
    for answer in (_elbo(dtype=dtype), _elbo_loop(dtype)):
        feedback = check.elbo.elbo_estimate(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.elbo.elbo_estimate(_nudged(answer))


@pytest.mark.parametrize("variant", ["closed-form entropy", "closed-form KL"])
@pytest.mark.parametrize("dtype", [F64, F32])
def test_elbo_check_accepts_the_closed_form_variants_and_says_so(variant, dtype):
    feedback = check.elbo.elbo_estimate(_elbo(variant, dtype))
    assert feedback and variant.split()[-1] in feedback.message and "closed form" in feedback.message, feedback


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("no prior", "misses the prior term"),
        ("no entropy", "misses the entropy term"),
        ("plus log q", "entropy term with the wrong sign"),
        ("variance", "variance"),
        ("per draw", "one value per draw"),
        ("sum", "sums over the S draws"),
        ("loss", "wrong sign"),
        ("own noise", "draws its own random numbers"),
        ("ignores eps", "does not use the eps"),
    ],
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_elbo_check_names_each_mistake(variant, says, dtype):
    feedback = check.elbo.elbo_estimate(_elbo(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_elbo_check_never_calls_a_scalar_off_by_a_constant_factor():
    feedback = check.elbo.elbo_estimate(_elbo("twice"))
    assert not feedback and "constant factor" not in feedback.message and "differs" in feedback.message, feedback


def test_elbo_check_reports_errors():
    assert "correct" in str(check.elbo.elbo_estimate(_elbo()))
    wrong_shape = check.elbo.elbo_estimate(lambda *args: torch.zeros(3, 2))
    assert not wrong_shape and "shape (3, 2)" in wrong_shape.message
    raised = check.elbo.elbo_estimate(lambda *args: 1 / 0)
    assert not raised and "ZeroDivisionError" in raised.message


def test_the_elbo_reference_matches_the_exact_elbo_of_the_conjugate_model():
    """Independent check of the reference: averaged over many draws, its value is the closed-form ELBO."""
    from helpers.check import elbo as module

    loc, scale = torch.tensor([0.9, -0.7], dtype=F64), torch.tensor([0.5, 2.0], dtype=F64)
    eps = torch.randn((400_000, 2), generator=torch.Generator().manual_seed(1), dtype=F64)
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


def _q_tau(variant: str = "", dtype: torch.dtype = F64):
    def answer(x, prior, mu_n, lambda_n):
        x = x.to(dtype)
        n = len(x)
        a = prior.a0 + (n / 2 if variant == "a" else (n + 1) / 2)
        sq = ((x - mu_n) ** 2).sum() + (0 if variant == "no var" else n / lambda_n)
        prior_term = 0 if variant == "no prior" else prior.lambda0 * ((mu_n - prior.mu0) ** 2 + 1 / lambda_n)
        if variant == "no var":
            prior_term = prior.lambda0 * (mu_n - prior.mu0) ** 2
        b = prior.b0 + 0.5 * (sq + prior_term)
        return (torch.tensor(a, dtype=dtype), 1 / b) if variant == "scale" else (torch.tensor(a, dtype=dtype), b)

    return answer


def _q_tau_loop(x, prior, mu_n, lambda_n):
    sq = 0.0
    for x_n in x.tolist():  # Python floats: doubles
        sq += (x_n - mu_n) ** 2 + 1 / lambda_n
    a = prior.a0 + (len(x) + 1) / 2
    return a, prior.b0 + 0.5 * (sq + prior.lambda0 * ((mu_n - prior.mu0) ** 2 + 1 / lambda_n))


@pytest.mark.parametrize("dtype", [F64, F32])
def test_cavi_check_passes_correct_answers_at_their_precision(dtype):
    feedback = check.cavi.q_tau_update(_q_tau(dtype=dtype))
    assert feedback and _precision(dtype) in feedback.message, feedback
    assert not check.cavi.q_tau_update(_nudged(_q_tau(dtype=dtype)))
    pair_of_float32 = check.cavi.q_tau_update(lambda *args: torch.tensor([float(v) for v in _q_tau_loop(*args)]))
    assert pair_of_float32 and "float32 precision" in pair_of_float32.message  # torch.tensor of floats: float32
    loop = check.cavi.q_tau_update(_q_tau_loop)
    assert loop and "float64 precision" in loop.message, loop


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("scale", "scale and rate mixed up"),
        ("no prior", "prior term"),
        ("no var", "variance of q(mu)"),
        ("a", "a_0 + N/2"),
    ],
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_cavi_check_names_each_mistake(variant, says, dtype):
    feedback = check.cavi.q_tau_update(_q_tau(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_cavi_check_refuses_a_single_number():
    assert not check.cavi.q_tau_update(lambda x, prior, m, lam: 1.0)
    assert "pair (a_N, b_N)" in check.cavi.q_tau_update(lambda x, prior, m, lam: 1.0).message


def test_the_cavi_reference_is_the_fixed_point_of_the_course_cavi():
    """Independent check of the reference: at CAVI's converged q(mu), the update returns CAVI's own q(tau)."""
    x = torch.randn(30, generator=torch.Generator().manual_seed(3), dtype=F64) + 2
    prior = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)
    fit = vi.cavi_normal_gamma(x, prior, 200)
    a_b = check.cavi._reference_q_tau(x, prior, fit.mu_N, fit.lambda_N)
    torch.testing.assert_close(a_b, torch.tensor([fit.a_N, fit.b_N], dtype=F64))


# ---------------------------------------------------------------------------------------------- bbvi


def _score(variant: str = "", dtype: torch.dtype = F64):
    def answer(z, loc, scale):
        z, loc, scale = z.to(dtype), loc.to(dtype), scale.to(dtype)
        d = z - loc
        second = {
            "precision": scale**2 / 2 - d**2 / 2,
            "variance": -1 / (2 * scale**2) + d**2 / (2 * scale**4),
            "no -1/scale": d**2 / scale**3,
            "log scale": -1 + d**2 / scale**2,
        }.get(variant, -1 / scale + d**2 / scale**3)
        out = torch.stack([d / scale**2, second], -1)
        return {"sign": -out, "swapped": out.flip(-1)}.get(variant, out)

    return answer


def _score_loop(dtype: torch.dtype):
    def answer(z, loc, scale):
        out = torch.zeros(len(z), 2, dtype=dtype)
        for s, z_s in enumerate(z.tolist()):
            d, sd = z_s - float(loc), float(scale)
            out[s, 0], out[s, 1] = d / sd**2, -1 / sd + d**2 / sd**3
        return out

    return answer


def _score_by_autograd(z, loc, scale):
    loc, scale = loc.expand_as(z).clone().requires_grad_(), scale.expand_as(z).clone().requires_grad_()
    return torch.stack(torch.autograd.grad(Normal(loc, scale).log_prob(z).sum(), (loc, scale)), -1)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_bbvi_check_passes_correct_answers_at_their_precision(dtype):
    for answer in (_score(dtype=dtype), _score_loop(dtype), lambda z, l, s: _score_by_autograd(z.to(dtype), l, s)):
        feedback = check.bbvi.gaussian_score(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.bbvi.gaussian_score(_nudged(answer))
    pair = check.bbvi.gaussian_score(lambda z, l, s: tuple(_score(dtype=dtype)(z, l, s).T))  # a pair of columns
    assert pair and _precision(dtype) in pair.message


def test_bbvi_check_recognizes_the_columns_swapped():
    feedback = check.bbvi.gaussian_score(_score("swapped"))
    assert feedback and "right numbers, other order" in feedback.message and "(d/dscale, d/dloc)" in feedback.message


@pytest.mark.parametrize(
    ("variant", "says"),
    [("precision", "precision"), ("variance", "variance"), ("no -1/scale", "derivative of the normalizer"),
     ("log scale", "log scale"), ("sign", "wrong sign")],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F64, F32])
def test_bbvi_check_names_each_mistake(variant, says, dtype):
    feedback = check.bbvi.gaussian_score(_score(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_bbvi_check_reports_a_shape_error():
    feedback = check.bbvi.gaussian_score(lambda z, l, s: _score()(z, l, s).T)
    assert not feedback and "shape (2, 50)" in feedback.message


# ---------------------------------------------------------------------------------------------- natural gradients


def _fisher(variant: str = "", dtype: torch.dtype = F64):
    def answer(alpha, s):
        alpha, s = alpha.to(dtype), s.to(dtype)
        psi1 = torch.special.polygamma(1, alpha)
        cross = {"sign": -1 / s, "no jacobian": -s}.get(variant, 1 / s)
        last = {"no jacobian": alpha * s**2}.get(variant, alpha / s**2)
        if variant == "slip":  # J^T F(eta) J with J = diag(1, s^2) where diag(1, 1/s^2) belongs
            cross, last = s**3, alpha * s**6
        f = torch.stack([torch.stack([psi1, cross], -1), torch.stack([cross, last], -1)], -2)
        return f[0] if variant == "one" else f

    return answer


def _fisher_loop(dtype: torch.dtype):
    def answer(alpha, s):
        out = torch.zeros(len(alpha), 2, 2, dtype=dtype)
        for i, (a, s_i) in enumerate(zip(alpha.tolist(), s.tolist(), strict=True)):
            psi1 = float(torch.special.polygamma(1, torch.tensor(a, dtype=F64)))
            out[i] = torch.tensor([[psi1, 1 / s_i], [1 / s_i, a / s_i**2]], dtype=dtype)
        return out

    return answer


def _fisher_by_the_jacobian(alpha, s):
    """J^T F_rate J with J = d(alpha, beta) / d(alpha, s) = diag(1, -1/s^2): the change of coordinates."""
    jac = torch.zeros(len(alpha), 2, 2, dtype=F64)
    jac[:, 0, 0], jac[:, 1, 1] = 1.0, -1 / s**2
    return jac.transpose(-1, -2) @ vi.gamma_fisher(torch.stack([alpha, 1 / s], -1), "rate") @ jac


@pytest.mark.parametrize("dtype", [F64, F32])
def test_natural_gradient_check_passes_correct_answers_at_their_precision(dtype):
    for answer in (_fisher(dtype=dtype), _fisher_loop(dtype), lambda a, s: _fisher_by_the_jacobian(a, s).to(dtype)):
        feedback = check.natural_gradients.gamma_fisher_scale(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.natural_gradients.gamma_fisher_scale(_nudged(answer))


@pytest.mark.parametrize(
    ("variant", "says"),
    [("slip", "J^-1 = J"), ("sign", "scale and rate mixed up"), ("no jacobian", "without the Jacobian")],
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_natural_gradient_check_names_each_mistake(variant, says, dtype):
    feedback = check.natural_gradients.gamma_fisher_scale(_fisher(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_natural_gradient_check_reports_a_shape_error():
    feedback = check.natural_gradients.gamma_fisher_scale(_fisher("one"))
    assert not feedback and "shape (2, 2)" in feedback.message and "(B, 2, 2)" in feedback.message


def test_a_check_refuses_what_is_not_a_function():
    with pytest.raises(TypeError, match="answer must be callable"):
        check.elbo.elbo_estimate(3.0)


def test_the_float32_answers_pass_with_a_quarter_of_the_tolerance(monkeypatch):
    """Margin: the tolerance is 64 eps x magnitude; every float32 answer above passes at 16, so a correct answer
    is not a near miss (and a change that lost the margin fails here)."""
    from helpers.check import _feedback

    monkeypatch.setattr(_feedback, "ULPS", _feedback.ULPS / 4)
    assert check.elbo.elbo_estimate(_elbo(dtype=F32)) and check.elbo.elbo_estimate(_elbo_loop(F32))
    assert check.cavi.q_tau_update(_q_tau(dtype=F32))
    assert check.bbvi.gaussian_score(_score(dtype=F32)) and check.bbvi.gaussian_score(_score_loop(F32))
    assert check.natural_gradients.gamma_fisher_scale(_fisher(dtype=F32))
    assert math.isclose(_feedback.ULPS, 16)
