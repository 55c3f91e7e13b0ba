"""Self-checks of the gradient-estimators chapter, the score-function terms and the reparameterization terms: correct
answers pass in float64, float32 and as Python loops, and in another column order (said so); a wrong sign, the missing
derivative of the normalizer, f or the gradient at other draws, a biased estimator, the path derivative and each
other published mistake are named; a shape error is said."""

from __future__ import annotations

import pytest
import torch

from helpers import check, deep, estimators, models

F32, F64 = torch.float32, torch.float64
INTERLEAVED = [0, 2, 1, 3]  # (loc_1, scale_1, loc_2, scale_2): the u-terms, then the v-terms


def _precision(dtype: torch.dtype) -> str:
    return "agrees to float32 precision" if dtype == F32 else "agrees to float64 precision"


def _nudged(answer, by: float = 1e-3):
    def nudged(*args):
        value = answer(*args).clone()
        value.view(-1)[-1] += by * float(value.abs().max())
        return value

    return nudged


# ---------------------------------------------------------------------------------------------- score function


def _terms(variant: str = "", dtype: torch.dtype = F64):
    def answer(f, loc, scale, z):
        loc, scale, z = loc.to(dtype), scale.to(dtype), z.to(dtype)
        d = z - loc
        psi = torch.cat([d / scale**2, (0 if variant == "no -1/scale" else -1 / scale) + d**2 / scale**3], -1)
        if variant == "other draws":  # f at an independent draw: E[f(z') psi(z)] = E f * E psi = 0
            g = torch.Generator().manual_seed(99)
            fz = f(loc + scale * torch.randn(z.shape, generator=g, dtype=z.dtype))
        elif variant == "flipped draws":  # the chapter's example: f of the draws in another order
            fz = f(z.flip(0))
        elif variant == "biased":
            fz = f(z) + 3.0 * z[:, 0] ** 2  # depends on z: a "baseline" that is not constant biases the estimate
        elif variant == "own draws":  # f and the score at draws of its own, fresh at each call
            own = loc + scale * torch.randn(z.shape, dtype=z.dtype)
            d, fz = own - loc, f(own)
            psi = torch.cat([d / scale**2, -1 / scale + d**2 / scale**3], -1)
        else:
            fz = f(z)
        out = fz.to(dtype)[:, None] * psi
        if variant == "baseline":  # a constant baseline keeps the mean: unbiased, but not the plain terms
            out = (fz[:, None] - 4.0) * psi
        return {"sign": -out, "transposed": out.T, "score only": psi, "interleaved": out[:, INTERLEAVED]}.get(
            variant, out
        )

    return answer


def _terms_loop(dtype: torch.dtype):
    def answer(f, loc, scale, z):
        num, dim = z.shape
        out = torch.zeros(num, 2 * dim, dtype=dtype)
        fz = f(z)
        for s in range(num):
            for i in range(dim):
                d = z[s, i] - loc[i]
                out[s, i] = fz[s] * d / scale[i] ** 2
                out[s, dim + i] = fz[s] * (-1 / scale[i] + d**2 / scale[i] ** 3)
        return out

    return answer


def _terms_with_the_helper(f, loc, scale, z):
    """The course's score_function_terms on a model whose log-joint is f + log q: its f - log q is then f."""

    class Model:
        latent_dim, support = 2, "all of R^2"

        def log_joint(self, z):
            return f(z) + torch.distributions.Normal(loc, scale).log_prob(z).sum(-1)

        def outside_support(self, z):
            return torch.zeros(z.shape[:-1], dtype=torch.bool)

    return torch.cat(estimators.score_function_terms(Model(), loc, scale, (z - loc) / scale), -1)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_score_function_check_passes_correct_answers_at_their_precision(dtype):
    # the loop is slow (80,000 Python steps): run it on one dtype per case
    answers = [_terms(dtype=dtype), lambda *args: _terms_with_the_helper(*args).to(dtype)]
    for answer in answers + ([_terms_loop(dtype)] if dtype == F32 else []):
        feedback = check.gradient_estimators.score_function(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
    assert not check.gradient_estimators.score_function(_nudged(_terms(dtype=dtype)))


def test_score_function_check_recognizes_the_u_terms_then_the_v_terms():
    feedback = check.gradient_estimators.score_function(_terms("interleaved"))
    assert feedback and "right numbers, other order" in feedback.message, feedback
    assert "(d/dloc_1, d/dscale_1, d/dloc_2, d/dscale_2)" in feedback.message


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("sign", "wrong sign"),
        ("no -1/scale", "derivative of the normalizer"),
        ("score only", "score d log q alone"),
        ("other draws", "different draws"),
        ("flipped draws", "different draws"),
        ("own draws", "draws its own random numbers"),
        ("biased", "is biased"),
        ("baseline", "is unbiased"),
        ("transposed", "shape (4, 20000)"),
    ],
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_score_function_check_names_each_mistake(variant, says, dtype):
    feedback = check.gradient_estimators.score_function(_terms(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_the_exact_gradient_behind_the_bias_verdict():
    """The verdicts use d/d(loc, scale) E_q sum (z - c)^2 = (2 (loc - c), 2 scale): check it by quadrature-free
    Monte Carlo with the reparameterization estimator on 400,000 draws (an independent estimator)."""
    from helpers.check import gradient_estimators as module

    loc = torch.tensor([1.2, 0.3], dtype=F64, requires_grad=True)
    scale = torch.tensor([0.7, 1.5], dtype=F64, requires_grad=True)
    eps = torch.randn((400_000, 2), generator=torch.Generator().manual_seed(5), dtype=F64)
    grad = torch.autograd.grad(module._f(loc + scale * eps).mean(), (loc, scale))
    exact = torch.cat([2 * (loc - module._C), 2 * scale]).detach()
    torch.testing.assert_close(torch.cat(grad), exact, rtol=0, atol=0.02)


# ---------------------------------------------------------------------------------------------- reparameterization


def _reparam(variant: str = "", dtype: torch.dtype = F64):
    """The chapter's pieces: df/dloc = d log p/dz, df/dscale = d log p/dz * eps + 1/scale (q Gaussian)."""

    def answer(model, loc, scale, eps):
        loc, scale, eps = loc.to(dtype), scale.to(dtype), eps.to(dtype)
        if variant == "own noise":
            eps = torch.randn(eps.shape, dtype=dtype)
        z = loc + scale * eps
        grad = model.grad_log_joint(z).to(dtype)
        jac = {"other eps": torch.randn(eps.shape, generator=torch.Generator().manual_seed(3), dtype=dtype),
               "no jacobian": torch.ones_like(eps), "z for eps": z}.get(variant, eps)  # fmt: skip
        if variant == "f at other draws":  # grad log p at the draws in another order, the Jacobian at these
            grad = model.grad_log_joint(z.flip(0)).to(dtype)
        entropy = {"no entropy": 0.0, "entropy sign": -1 / scale}.get(variant, 1 / scale)
        out = torch.cat([grad, grad * jac + entropy], -1)
        return {"sign": -out, "interleaved": out[:, INTERLEAVED], "mean": out.mean(0), "loc only": out[:, :2]}.get(
            variant, out
        )

    return answer


def _reparam_by_autograd(variant: str = "", dtype: torch.dtype = F64):
    """Autograd of f = log p(x, z) - log q(z), one copy of (loc, scale) per draw (the chapter's per-draw idiom)."""

    def answer(model, loc, scale, eps):
        per_draw = variant != "summed"
        loc_s = (loc.expand_as(eps) if per_draw else loc).to(dtype).clone().requires_grad_(True)
        scale_s = (scale.expand_as(eps) if per_draw else scale).to(dtype).clone().requires_grad_(True)
        z = loc_s + scale_s * eps.to(dtype)
        q_loc, q_scale = (loc_s.detach(), scale_s.detach()) if variant == "path" else (loc_s, scale_s)
        f = model.log_joint(z).to(dtype) - torch.distributions.Normal(q_loc, q_scale).log_prob(z).sum(-1)
        return torch.cat(torch.autograd.grad(f.sum(), (loc_s, scale_s)), -1)

    return answer


def _reparam_loop(dtype: torch.dtype):
    def answer(model, loc, scale, eps):
        out = torch.zeros(eps.shape[0], 2 * eps.shape[1], dtype=dtype)
        for s, e in enumerate(eps):
            z = loc + scale * e
            grad = model.grad_log_joint(z[None])[0]
            out[s] = torch.cat([grad, grad * e + 1 / scale])
        return out

    return answer


def _reparam_with_the_helper(model, loc, scale, eps):
    return torch.cat(estimators.reparameterization_terms(model, loc, scale, eps), -1)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_reparameterization_check_passes_correct_answers_at_their_precision(dtype):
    for answer in (_reparam(dtype=dtype), _reparam_by_autograd(dtype=dtype), _reparam_loop(dtype)):
        feedback = check.gradient_estimators.reparameterization(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.gradient_estimators.reparameterization(_nudged(answer))
    assert check.gradient_estimators.reparameterization(_reparam_with_the_helper)


def test_reparameterization_check_recognizes_the_u_terms_then_the_v_terms():
    feedback = check.gradient_estimators.reparameterization(_reparam("interleaved"))
    assert feedback and "right numbers, other order" in feedback.message, feedback


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_reparam("other eps"), "draws independent of eps"),
        (_reparam("f at other draws"), "draws independent of eps"),
        (_reparam_by_autograd("path"), "path-derivative"),
        (_reparam("no entropy"), "misses the derivative of the entropy term"),
        (_reparam("entropy sign"), "entropy term with the wrong sign"),
        (_reparam("no jacobian"), "misses the factor dz/dscale"),
        (_reparam("z for eps"), "multiplies by z"),
        (_reparam("sign"), "wrong sign"),
        (_reparam("own noise"), "draws its own random numbers"),
        (_reparam("mean"), "average over the draws"),
        (_reparam_by_autograd("summed"), "sum over the draws"),
        (_reparam("loc only"), "shape (5000, 2)"),
        (
            lambda model, loc, scale, eps: torch.cat(estimators.score_function_terms(model, loc, scale, eps), -1),
            "score-function terms",
        ),
    ],
    ids=["other eps", "f at other draws", "path", "no entropy", "entropy sign", "no jacobian", "z for eps", "sign",
         "own noise", "mean", "summed", "loc only", "score function"],
)  # fmt: skip
def test_reparameterization_check_names_each_mistake(answer, says):
    feedback = check.gradient_estimators.reparameterization(answer)
    assert not feedback and says in feedback.message, feedback


def test_reparameterization_check_names_independent_draws_in_float32_too():
    feedback = check.gradient_estimators.reparameterization(_reparam("other eps", F32))
    assert not feedback and "draws independent of eps" in feedback.message, feedback


def test_the_reparameterization_reference_and_exact_gradient():
    """The check's reference (the chapter's chain-rule helper on the check's model) equals autograd of the ELBO
    terms (deep.elbo_gradient_terms, an independent implementation), the model's grad_log_joint equals autograd of
    its log_joint, and the exact gradient behind the bias verdicts is the mean of many reference draws."""
    from helpers.check import gradient_estimators as module

    g = torch.Generator().manual_seed(7)
    inner = models.ConjugateGaussian(torch.randn((8, 2), generator=g, dtype=F64), noise_sd=1.3)
    model = module._GaussianModel(inner)
    loc, scale = torch.tensor([0.6, 0.2], dtype=F64), torch.tensor([0.8, 0.35], dtype=F64)
    eps = torch.randn((200_000, 2), generator=g, dtype=F64)
    terms = torch.cat(estimators.reparameterization_terms(model, loc, scale, eps), -1)
    torch.testing.assert_close(terms[:50], deep.elbo_gradient_terms(inner, loc, scale, eps[:50]))
    z = (loc + scale * eps[:50]).requires_grad_(True)
    torch.testing.assert_close(model.grad_log_joint(z.detach()), torch.autograd.grad(inner.log_joint(z).sum(), z)[0])
    precision_sum = 1 + 8 / 1.3**2
    exact = torch.cat([model.grad_log_joint(loc), -scale * precision_sum + 1 / scale])
    mean, se = terms.mean(0), terms.std(0) / len(terms) ** 0.5
    assert ((mean - exact).abs() < 4.5 * se).all(), (mean, exact, se)


def test_the_float32_answers_pass_with_a_quarter_of_the_tolerance(monkeypatch):
    from helpers.check import _feedback

    monkeypatch.setattr(_feedback, "ULPS", _feedback.ULPS / 4)
    assert check.gradient_estimators.score_function(_terms(dtype=F32))
    for answer in (_reparam(dtype=F32), _reparam_by_autograd(dtype=F32), _reparam_loop(F32)):
        assert check.gradient_estimators.reparameterization(answer)
