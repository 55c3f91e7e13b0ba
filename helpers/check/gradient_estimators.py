"""Self-checks for the chapter *Monte Carlo gradient estimators* (book/estimators/gradient-estimators.ipynb): the
score-function terms and the reparameterization terms, one row per draw."""

from __future__ import annotations

import torch

from helpers.check._feedback import (
    Z_BIAS,
    Feedback,
    as_float64,
    call,
    check_answer,
    compare,
    compare_mean,
    noise_feedback,
    wrong,
)
from helpers.estimators import reparameterization_terms, score_function_terms
from helpers.models import ConjugateGaussian

_C = torch.tensor([0.5, -1.0], dtype=torch.float64)


def _f(z: torch.Tensor) -> torch.Tensor:
    """f(z) = sum_d (z_d - c_d)^2: z (S, D) -> (S,); E_q f = sum_d (loc_d - c_d)^2 + scale_d^2."""
    return ((z - _C) ** 2).sum(-1)


def _columns(d: int) -> tuple[str, ...]:
    return tuple(f"d/dloc_{i + 1}" for i in range(d)) + tuple(f"d/dscale_{i + 1}" for i in range(d))


def _unexplained(feedback: Feedback) -> bool:
    return not feedback.ok and "none of the chapter's known mistakes" in feedback.message


def _score_size(z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The size of the terms of f(z) * score, (S, 2D): d = z - loc and z - c cancel, so their rounding (the inputs'
    too) is relative to |z| + |loc| and |z| + |c|."""
    d, f = z - loc, _f(z)[:, None]
    near = d.abs() + z.abs() + loc.abs()
    psi = torch.cat([near / scale**2, 1 / scale + (d**2 + 2 * d.abs() * near) / scale**3], -1)
    f_size = f + (2 * (z - _C).abs() * (z.abs() + _C.abs())).sum(-1, keepdim=True)
    return f_size * psi


def score_function(answer: object) -> Feedback:
    """Check ``answer(f, loc, scale, z) -> (S, 2D)``, the per-draw terms of the score-function estimate of the
    gradient of E_q[f(z)] with respect to (loc, scale), q = N(loc, diag scale^2), at the draws z: f(z_s) times the
    score of q at z_s, one row per draw, the D derivatives in ``loc`` first, then the D in ``scale``.

    Shapes: ``z`` (S, D), ``loc`` and ``scale`` (D,), ``f`` maps (S, D) to (S,). References: Williams (1992);
    Mohamed et al. (2020), sec. 4.

    Feedback names a wrong sign, the missing derivative of the normalizer, a missing f and, when the terms are none
    of those, whether their mean is biased (in standard errors against the exact gradient) or averages to zero (f
    taken at other draws than the score) or the answer draws its own noise. The right columns in another order
    (e.g. loc_1, scale_1, loc_2, scale_2) are recognized; answers of any floating dtype are compared at their
    precision."""
    fn = check_answer(answer)
    what = "your score-function estimate"
    g = torch.Generator().manual_seed(2020)
    loc = torch.tensor([1.2, 0.3], dtype=torch.float64)
    scale = torch.tensor([0.7, 1.5], dtype=torch.float64)
    z = loc + scale * torch.randn((20_000, 2), generator=g, dtype=torch.float64)

    def args(draws: torch.Tensor = z) -> tuple:
        return (_f, loc.clone(), scale.clone(), draws.clone())

    value = call(fn, args(), what)
    if isinstance(value, Feedback):
        return value
    d, fz = z - loc, _f(z)[:, None]
    psi = torch.cat([d / scale**2, -1 / scale + d**2 / scale**3], -1)  # (S, 2D)
    mistakes = {
        "misses the derivative of the normalizer (the -log scale of log q) in the d/dscale terms: that term is what "
        "makes the score's mean zero.": fz * torch.cat([d / scale**2, d**2 / scale**3], -1),
        "returns the score d log q alone: the estimator weighs it by f(z).": psi,
    }
    feedback = compare(
        value,
        fz * psi,
        what=what,
        shape_hint="(S, 2D): d/dloc for the D coordinates, then d/dscale",
        mistakes=mistakes,
        inputs="on 20,000 seeded draws",
        magnitude=_score_size(z, loc, scale),
        columns=_columns(2),
    )
    if not _unexplained(feedback):
        return feedback
    draws = as_float64(value, what)
    exact = torch.cat([2 * (loc - _C), 2 * scale])  # d/d(loc, scale) of sum (loc - c)^2 + scale^2
    z_exact, unbiased = compare_mean(draws, exact, what=what, inputs="")
    z_zero, _ = compare_mean(draws, torch.zeros_like(exact), what=what, inputs="")
    if (z_zero.abs() < Z_BIAS).all():
        return wrong(
            what,
            "averages to zero: f and the score come from different draws? The score has mean zero, "
            "so f must be evaluated at the same z as the score.",
        )
    other = loc + scale * torch.randn(z.shape, generator=g, dtype=torch.float64)
    if (noise := noise_feedback(fn, args, lambda: args(other), value, what, "draws z")) is not None:
        return noise
    if unbiased:
        return wrong(
            what,
            f"is unbiased (every mean within {Z_BIAS} SE of the exact gradient) but its draws are "
            "not f(z) d log q(z): a baseline or another estimator? The check asks for the plain terms.",
        )
    return wrong(
        what,
        f"is biased: its mean is up to {float(z_exact.abs().max()):.1f} standard errors from the "
        f"exact gradient (coordinate {int(z_exact.abs().argmax())}).",
    )


class _GaussianModel:
    """The reparameterization check's model: a conjugate Gaussian (:class:`helpers.models.ConjugateGaussian`) with
    the two methods the chapter's estimators use, ``log_joint`` (S, D) -> (S,) and ``grad_log_joint`` (S, D) ->
    (S, D) (exact: the log joint is quadratic in z)."""

    support = "all of R^2"

    def __init__(self, model: ConjugateGaussian) -> None:
        self._model = model
        self.latent_dim = model.dim

    def log_joint(self, z: torch.Tensor) -> torch.Tensor:
        return self._model.log_joint(z)

    def grad_log_joint(self, z: torch.Tensor) -> torch.Tensor:
        m = self._model
        x = m.x.to(z.dtype)
        return -(z - m.prior_mean) / m.prior_sd**2 + (x.sum(0) - m.num_points * z) / m.noise_sd**2

    def outside_support(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(z.shape[:-1], dtype=torch.bool, device=z.device)

    def __repr__(self) -> str:
        return f"the check's model: {self._model!r}, with log_joint(z) and grad_log_joint(z)"


def reparameterization(answer: object) -> Feedback:
    """Check ``answer(model, loc, scale, eps) -> (S, 2D)``, the per-draw reparameterization terms of the ELBO's
    gradient: the total derivative of f = log p(x, z) - log q(z) with respect to (loc, scale) at
    z = loc + scale * eps, q = N(loc, diag scale^2), one row per draw, the D derivatives in ``loc`` first.

    ``model`` has ``log_joint(z)`` (S, D) -> (S,), differentiable with autograd, and ``grad_log_joint(z)``
    (S, D) -> (S, D), as the chapter's models do. Shapes: ``loc`` and ``scale`` (D,), ``eps`` (S, D). References:
    Kingma & Welling (2014); Rezende et al. (2014); Titsias & Lazaro-Gredilla (2014); the chapter's proposition
    *The reparameterization gradient, piece by piece*.

    Feedback names the gradient at draws independent of eps (the published mistake: f, or dz/dscale, taken at other
    draws than the ones the gradient uses), the path derivative (score term dropped), a missing or wrongly signed
    entropy term, a missing dz/dscale, the score-function terms, an average or a sum over the draws instead of one
    row per draw, and an answer that draws its own noise. The right columns in another order are recognized;
    answers of any floating dtype (or from a Python loop) are compared at their precision."""
    fn = check_answer(answer)
    what = "your reparameterization gradient"
    g = torch.Generator().manual_seed(2014)
    data = torch.randn((8, 2), generator=g, dtype=torch.float64) * 0.8 + torch.tensor([1.5, -0.5])
    model = _GaussianModel(ConjugateGaussian(data, noise_sd=1.3))
    loc = torch.tensor([0.6, 0.2], dtype=torch.float64)
    scale = torch.tensor([0.8, 0.35], dtype=torch.float64)
    eps = torch.randn((5_000, 2), generator=g, dtype=torch.float64)

    def args(noise: torch.Tensor = eps) -> tuple:
        return (model, loc.clone(), scale.clone(), noise.clone())

    value = call(fn, args(), what)
    if isinstance(value, Feedback):
        return value
    reference = torch.cat(reparameterization_terms(model, loc, scale, eps), -1)  # (S, 2D)
    z = loc + scale * eps
    grad = model.grad_log_joint(z)  # (S, D)
    mistakes = {
        "is the path-derivative (sticking-the-landing) estimator: the score term of log q at fixed z is left out. It "
        "is unbiased, but another estimator (the chapter's exercise); the check asks for the total derivative.": (
            torch.cat(reparameterization_terms(model, loc, scale, eps, path_derivative=True), -1)
        ),
        "misses the derivative of the entropy term (of - log q) in the d/dscale terms: they are those of "
        "E_q[log p(x, z)] alone.": torch.cat([grad, grad * eps], -1),
        "has the derivative of the entropy term with the wrong sign in the d/dscale terms.": torch.cat(
            [grad, grad * eps - 1 / scale], -1
        ),
        "misses the factor dz/dscale of the chain rule in the d/dscale terms.": torch.cat([grad, grad + 1 / scale], -1),
        "multiplies by z where the chain rule needs dz/dscale in the d/dscale terms.": torch.cat(
            [grad, grad * z + 1 / scale], -1
        ),
        "returns the score-function terms (f times the score of q): unbiased, but another estimator; the check asks "
        "for the reparameterization terms.": torch.cat(score_function_terms(model, loc, scale, eps), -1),
        "returns the average over the draws (shape (2D,)): the check asks for one row per draw, shape (S, 2D).": (
            reference.mean(0)
        ),
        "returns the sum over the draws (shape (2D,)): autograd of f.sum() with respect to loc and scale adds the "
        "draws' gradients; give each draw its own copy of loc and scale (as the chapter does) to keep one row per "
        "draw.": reference.sum(0),
    }
    n, noise_var = model._model.num_points, model._model.noise_sd**2
    z_size = loc.abs() + (scale * eps).abs()  # z = loc + scale * eps, rounded relative to this
    size_z = data.abs().sum(0) / noise_var + (n / noise_var + 1) * z_size  # the terms of grad log p, each (S, D)
    magnitude = torch.cat([size_z, size_z * eps.abs() + 1 / scale], -1)
    feedback = compare(
        value,
        reference,
        what=what,
        shape_hint="(S, 2D): d/dloc for the D coordinates, then d/dscale",
        mistakes=mistakes,
        inputs="on 5,000 seeded draws of a 2-D conjugate Gaussian model",
        magnitude=magnitude,
        columns=_columns(2),
    )
    if not _unexplained(feedback):
        return feedback
    draws = as_float64(value, what)
    precision_sum = 1 / model._model.prior_sd**2 + n / noise_var
    exact = torch.cat([model.grad_log_joint(loc), -scale * precision_sum + 1 / scale])  # d ELBO / d(loc, scale)
    z_exact, unbiased = compare_mean(draws, exact, what=what, inputs="")
    entropy_only = torch.cat([exact[: len(loc)], 1 / scale])  # what d/dscale averages to when the draws are independent
    z_independent, _ = compare_mean(draws, entropy_only, what=what, inputs="")
    if not unbiased and (z_independent.abs() < Z_BIAS).all():
        return wrong(
            what,
            "uses draws independent of eps for part of each term (grad log p, or dz/dscale, at other draws): its "
            "d/dscale terms average to the entropy's derivative alone. Take every piece of a term from the same draw.",
        )
    other = torch.randn(eps.shape, generator=g, dtype=torch.float64)
    if (noise := noise_feedback(fn, args, lambda: args(other), value, what, "eps")) is not None:
        return noise
    if unbiased:
        return wrong(
            what,
            f"is unbiased (every mean within {Z_BIAS} SE of the exact gradient) but its draws are not the "
            "reparameterization terms: another estimator? The check asks for the total derivative, draw by draw.",
        )
    return wrong(
        what,
        f"is biased: its mean is up to {float(z_exact.abs().max()):.1f} standard errors from the exact gradient "
        f"(coordinate {int(z_exact.abs().argmax())}).",
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_score_terms": score_function,
    "my_reparameterization_terms": reparameterization,
}
