"""The Gamma–Poisson model of the chapter *Gradient estimators for variational inference*.

    x_i | u, v ~ Poisson(u v),  i = 1..N,     u ~ Gamma(shape a_u, rate b_u),     v ~ Gamma(shape a_v, rate b_v).

Rates, not scales: Gamma(a, rate b) has density b^a z^(a-1) e^(-b z) / Gamma(a) and mean a/b.
With S = sum_i x_i the log joint is

    log p(x, u, v) = S log(u v) - N u v - sum_i log x_i!
                     + a_u log b_u - lgamma(a_u) + (a_u - 1) log u - b_u u
                     + a_v log b_v - lgamma(a_v) + (a_v - 1) log v - b_v v,      u, v > 0,

and -inf when u <= 0 or v <= 0 (the density is zero there). Latents are ordered z = (u, v): shape (..., 2).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special
from torch import Tensor

from helpers.common.families import get_family
from helpers.common.quadrature import checked_quad, normal_positive_moments
from helpers.common.validation import (
    as_tensor,
    check_finite,
    check_location_scale,
    check_positive_number,
)

#: The course exercise's observations.
EXERCISE_DATA: tuple[int, ...] = (3, 4, 3, 9, 10, 3, 2, 3, 3, 2)


class GammaPoisson:
    """x_i ~ Poisson(u v), u ~ Gamma(u_shape, rate u_rate), v ~ Gamma(v_shape, rate v_rate).

    Defaults are the course exercise: x = [3, 4, 3, 9, 10, 3, 2, 3, 3, 2], u ~ Gamma(5, rate 1),
    v ~ Gamma(4, rate 4). Densities follow the dtype of their input; the exact references (``exact_elbo``,
    ``log_evidence``) are computed in float64.
    """

    latent_dim = 2
    latent_names = ("u", "v")
    support = "u > 0 and v > 0"

    def __init__(
        self,
        x: object = EXERCISE_DATA,
        u_shape: float = 5.0,
        u_rate: float = 1.0,
        v_shape: float = 4.0,
        v_rate: float = 4.0,
    ) -> None:
        data = as_tensor(x, "x", dtype=torch.float64)
        if data.ndim != 1 or data.numel() == 0:
            raise ValueError(f"x must be a non-empty 1-D sequence of counts (got shape {tuple(data.shape)}).")
        check_finite(data, "x")
        if (data < 0).any() or (data != torch.round(data)).any():
            raise ValueError(f"x must hold non-negative integer counts (got {data.tolist()}).")
        for name, value in (("u_shape", u_shape), ("u_rate", u_rate), ("v_shape", v_shape), ("v_rate", v_rate)):
            check_positive_number(value, name, hint="Gamma shapes and rates (not scales) are positive numbers")
        self.x = data
        self.u_shape, self.u_rate, self.v_shape, self.v_rate = map(float, (u_shape, u_rate, v_shape, v_rate))
        self.num_data = int(data.numel())
        self.sum_x = float(data.sum())
        self.log_factorials = float(torch.lgamma(data + 1.0).sum())
        self.prior_constant = (
            self.u_shape * math.log(self.u_rate)
            - math.lgamma(self.u_shape)
            + self.v_shape * math.log(self.v_rate)
            - math.lgamma(self.v_shape)
        )

    def __repr__(self) -> str:
        return (
            f"GammaPoisson(N={self.num_data}, sum_x={self.sum_x:g}, u ~ Gamma({self.u_shape:g}, rate {self.u_rate:g}), "
            f"v ~ Gamma({self.v_shape:g}, rate {self.v_rate:g}))"
        )

    # ----------------------------------------------------------------------------------------------- densities
    @staticmethod
    def outside_support(z: Tensor) -> Tensor:
        """Boolean (...,): True where u <= 0 or v <= 0 (p(x, u, v) = 0 there)."""
        return (z <= 0).any(-1)

    def log_likelihood(self, z: Tensor) -> Tensor:
        """log p(x | u, v) = S log(u v) - N u v - sum_i log x_i!, shape (...); -inf outside the support."""
        _check_latents(z)
        u, v = z[..., 0], z[..., 1]
        inside = ~self.outside_support(z)
        safe_uv = torch.where(inside, u * v, torch.ones_like(u))
        value = self.sum_x * torch.log(safe_uv) - self.num_data * safe_uv - self.log_factorials
        return torch.where(inside, value, torch.full_like(value, -math.inf))

    def log_prior(self, z: Tensor) -> Tensor:
        """log Gamma(u; a_u, b_u) + log Gamma(v; a_v, b_v), shape (...); -inf outside the support."""
        _check_latents(z)
        u, v = z[..., 0], z[..., 1]
        inside = ~self.outside_support(z)
        su = torch.where(inside, u, torch.ones_like(u))
        sv = torch.where(inside, v, torch.ones_like(v))
        value = (
            self.prior_constant
            + (self.u_shape - 1.0) * torch.log(su)
            - self.u_rate * su
            + (self.v_shape - 1.0) * torch.log(sv)
            - self.v_rate * sv
        )
        return torch.where(inside, value, torch.full_like(value, -math.inf))

    def _coefficients(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(S + a_u - 1, S + a_v - 1) and the rates (b_u, b_v), on z's dtype and device."""
        return (
            z.new_tensor([self.sum_x + self.u_shape - 1.0, self.sum_x + self.v_shape - 1.0]),
            z.new_tensor([self.u_rate, self.v_rate]),
        )

    def log_joint(self, z: Tensor) -> Tensor:
        """log p(x, u, v) = log p(x | u, v) + log p(u) + log p(v), shape (...); -inf outside the support.

        Evaluated as one expression, (S + a - 1) . log z - b . z - N u v + const, for speed; the tests check it
        against ``log_likelihood + log_prior`` and against ``torch.distributions``.
        """
        _check_latents(z)
        log_coeff, rates = self._coefficients(z)
        value = (
            torch.log(z) @ log_coeff
            - z @ rates
            - self.num_data * z.prod(-1)
            + (self.prior_constant - self.log_factorials)
        )
        outside = self.outside_support(z)
        return torch.where(outside, -math.inf, value) if outside.any() else value  # skip the copy when all inside

    def grad_log_joint(self, z: Tensor) -> Tensor:
        """d log p(x, u, v) / d(u, v), shape (..., 2); NaN outside the support (the derivative does not exist).

        d/du = (S + a_u - 1)/u - N v - b_u,        d/dv = (S + a_v - 1)/v - N u - b_v.
        """
        _check_latents(z)
        log_coeff, rates = self._coefficients(z)
        grad = log_coeff / z - self.num_data * z.flip(-1) - rates  # z.flip(-1) = (v, u)
        outside = self.outside_support(z)
        return torch.where(outside[..., None], math.nan, grad) if outside.any() else grad

    def grad_log_likelihood(self, z: Tensor) -> Tensor:
        """d log p(x | u, v) / d(u, v) = (S/u - N v, S/v - N u), shape (..., 2); NaN outside the support."""
        u, v = z[..., 0], z[..., 1]
        grad = torch.stack([self.sum_x / u - self.num_data * v, self.sum_x / v - self.num_data * u], dim=-1)
        return torch.where(self.outside_support(z)[..., None], torch.full_like(grad, math.nan), grad)

    # ----------------------------------------------------------------------------------------------- references
    def log_evidence(self) -> float:
        """log p(x), exact up to one 1-D quadrature (the v integral is a Gamma integral in closed form).

        p(x) = b_v^a_v Gamma(S + a_v) / (Gamma(a_v) prod x_i!) * b_u^a_u / Gamma(a_u)
               * int_0^inf u^(S + a_u - 1) e^(-b_u u) (N u + b_v)^-(S + a_v) du.
        """
        s, n = self.sum_x, self.num_data
        a_u, b_u, a_v, b_v = self.u_shape, self.u_rate, self.v_shape, self.v_rate

        def log_integrand(u: float) -> float:
            return (s + a_u - 1.0) * math.log(u) - b_u * u - (s + a_v) * math.log(n * u + b_v)

        # scale by the integrand's maximum so the quadrature sees numbers of order one
        grid = np.geomspace(1e-8, 1e4, 20_001)
        log_values = np.array([log_integrand(u) for u in grid])
        peak_index = int(np.argmax(log_values))
        peak, u_peak = log_values[peak_index], grid[peak_index]
        integral = _quad_around_peak(lambda u: math.exp(log_integrand(u) - peak), float(u_peak))
        return (
            -self.log_factorials
            + a_v * math.log(b_v)
            - math.lgamma(a_v)
            + math.lgamma(s + a_v)
            + a_u * math.log(b_u)
            - math.lgamma(a_u)
            + peak
            + math.log(integral)
        )

    def prob_outside_support(self, loc: object, scale: object, family: str = "normal") -> float:
        """P_q(u <= 0 or v <= 0) = 1 - Phi(mu_u/sigma_u) Phi(mu_v/sigma_v) for a Gaussian q; 0 for a log-normal q."""
        loc_t, scale_t = check_location_scale(loc, scale, dim=self.latent_dim)
        if get_family(family).name == "lognormal":
            return 0.0
        a = (loc_t / scale_t).double().cpu().numpy()
        # 1 - prod Phi(a_d) computed without cancellation: log1p of the sum of log Phi
        return float(-np.expm1(special.log_ndtr(a).sum()))

    def exact_elbo(self, loc: object, scale: object, family: str = "normal") -> Tensor:
        """Deterministic reference for the ELBO E_q[log p(x, u, v) - log q(u, v)] (float64, differentiable).

        ``family="lognormal"``: closed form, with y = log z ~ N(m, s^2), E[z] = exp(m + s^2/2) and
        E[-log q] = m + log(s sqrt(2 pi e)) per latent; loc and scale may carry batch dimensions, (..., 2) -> (...).

        ``family="normal"``: q puts probability ``prob_outside_support`` on u <= 0 or v <= 0, where
        log p = -inf, so the ELBO itself is -inf for every Gaussian q. What this returns is the
        **ELBO restricted to the support**, L+ = int_{u,v>0} q (log p - log q) du dv, computed from closed-form
        truncated moments and one quadrature per latent (:func:`helpers.common.quadrature.normal_positive_moments`).
        A Monte Carlo estimate with no draw outside the support estimates L+/P(support); the two differ by
        about |L+| * prob_outside_support (2.9e-7 relative at the chapter's parameters).
        """
        if get_family(family).name == "lognormal":
            loc_t, scale_t = check_location_scale(loc, scale, dtype=torch.float64)
            if loc_t.ndim == 0 or loc_t.shape[-1] != self.latent_dim:
                raise ValueError(
                    f"loc and scale must have shape (..., {self.latent_dim}), one entry per latent (u, v) "
                    f"(got {tuple(loc_t.shape)} after broadcasting)."
                )
            return self._lognormal_elbo(loc_t, scale_t)
        loc_t, scale_t = check_location_scale(loc, scale, dim=self.latent_dim)
        loc_t, scale_t = loc_t.double(), scale_t.double()
        s, n = self.sum_x, self.num_data
        mom = normal_positive_moments(loc_t, scale_t)
        mass, mean, log_m = mom["mass"], mom["mean"], mom["log"]
        # E[log q_d(z_d); z_d > 0] for each latent
        log_q = (-0.5 * math.log(2.0 * math.pi) - torch.log(scale_t)) * mass - mom["sq_dev"] / (2.0 * scale_t**2)
        # every term depends on u alone, v alone, or (the Poisson rate) on u v; q factorizes, so each
        # expectation over the positive quadrant is a product of one-dimensional ones
        per_latent = (
            torch.stack([torch.tensor(s + self.u_shape - 1.0), torch.tensor(s + self.v_shape - 1.0)]).to(mass) * log_m
            - torch.tensor([self.u_rate, self.v_rate]).to(mass) * mean
            - log_q
        )
        return (
            (self.prior_constant - self.log_factorials) * mass[0] * mass[1]
            + per_latent[0] * mass[1]
            + per_latent[1] * mass[0]
            - n * mean[0] * mean[1]
        )

    def _lognormal_elbo(self, m: Tensor, sd: Tensor) -> Tensor:
        """The closed-form ELBO of q = prod_d LogNormal(m_d, sd_d^2), batched over (..., 2) -> (...)."""
        mean_z = torch.exp(m + 0.5 * sd**2)
        entropy = m + torch.log(sd) + 0.5 * math.log(2.0 * math.pi * math.e)
        m_u, m_v = m[..., 0], m[..., 1]
        return (
            self.sum_x * (m_u + m_v)
            - self.num_data * mean_z[..., 0] * mean_z[..., 1]
            - self.log_factorials
            + self.prior_constant
            + (self.u_shape - 1.0) * m_u
            - self.u_rate * mean_z[..., 0]
            + (self.v_shape - 1.0) * m_v
            - self.v_rate * mean_z[..., 1]
            + entropy.sum(-1)
        )

    def exact_elbo_gradient(self, loc: object, scale: object, family: str = "normal") -> tuple[Tensor, Tensor]:
        """Gradient of :meth:`exact_elbo` with respect to (loc, scale), each of shape (2,), float64.

        Autograd through the closed forms; the quadrature's derivatives are quadratures themselves. For
        ``family="normal"`` this is the gradient of the ELBO restricted to the support. It is finite, but the
        reparameterization estimator has no finite mean or variance under a Gaussian q, because its terms grow
        like 1/v where q(v = 0) > 0. At the chapter's parameters that shows only beyond about 1e7 draws.
        The score-function estimator is fine. See the chapter's section on support.
        """
        loc_t, scale_t = check_location_scale(loc, scale, dim=self.latent_dim)
        loc_v = loc_t.detach().double().requires_grad_(True)
        scale_v = scale_t.detach().double().requires_grad_(True)
        value = self.exact_elbo(loc_v, scale_v, family=family)
        grad_loc, grad_scale = torch.autograd.grad(value, (loc_v, scale_v))
        return grad_loc, grad_scale


def _check_latents(z: object) -> None:
    """TypeError unless z is a tensor, ValueError naming z unless its last axis holds the two latents (u, v)."""
    if not isinstance(z, Tensor) or not z.is_floating_point():
        got = f"a tensor of dtype {z.dtype}" if isinstance(z, Tensor) else type(z).__name__
        raise TypeError(f"z must be a floating torch.Tensor of latents (u, v), shape (..., 2) (got {got}).")
    if z.shape[-1:] != (2,):
        raise ValueError(
            f"z must have shape (..., 2), the latents (u, v) on its last axis (got {tuple(z.shape)}); "
            "for S draws pass a tensor of shape (S, 2)."
        )


def _quad_around_peak(f, peak: float) -> float:
    """int_0^inf f(u) du for a unimodal f peaked at ``peak``, split so QUADPACK sees the bulk."""
    pieces = [(0.0, peak / 4), (peak / 4, peak), (peak, 4 * peak), (4 * peak, 64 * peak)]
    pieces.append((64 * peak, np.inf))
    return sum(checked_quad(f, a, b, abs_tol=1e-10, epsabs=0.0, epsrel=1e-13, limit=400) for a, b in pieces)
