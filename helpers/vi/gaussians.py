"""Closed forms for multivariate Gaussians used in the chapter *The evidence lower bound*.

Shapes: ``loc`` (D,), ``cov`` (D, D) symmetric positive definite; leading batch dimensions (B, ...) broadcast.
Everything is float64. Reference: Bishop (2006), *Pattern Recognition and Machine Learning*, sections 10.1.2
(mean-field under KL(q || p) and KL(p || q) for a correlated Gaussian) and 2.3.

* :func:`gaussian_kl`: KL(N(m_q, S_q) || N(m_p, S_p))
  = 1/2 [tr(S_p^-1 S_q) + (m_p - m_q)^T S_p^-1 (m_p - m_q) - D + log det S_p - log det S_q].
* :func:`mean_field_reverse_kl`: the diagonal Gaussian minimizing KL(q || p) for p = N(m, S):
  mean m, variances 1 / (S^-1)_ii (the inverse of the diagonal of the precision: too narrow).
* :func:`mean_field_forward_kl`: the diagonal Gaussian minimizing KL(p || q): mean m, variances S_ii
  (moment matching: the marginal variances are exact, the joint is over-dispersed).
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_finite


def _check_loc_cov(loc: object, cov: object, loc_name: str, cov_name: str) -> tuple[Tensor, Tensor]:
    m = check_finite(as_tensor(loc, loc_name, dtype=torch.float64), loc_name)
    s = check_finite(as_tensor(cov, cov_name, dtype=torch.float64), cov_name)
    if m.ndim < 1:
        raise ValueError(f"{loc_name} must have shape (..., D) (got a scalar); wrap a 1-D mean as [value].")
    d = m.shape[-1]
    if s.ndim < 2 or s.shape[-2:] != (d, d):
        raise ValueError(f"{cov_name} must have shape (..., {d}, {d}) to match {loc_name} (got {tuple(s.shape)}).")
    if not torch.allclose(s, s.transpose(-1, -2), rtol=1e-10, atol=1e-12):
        raise ValueError(f"{cov_name} must be symmetric; pass (S + S.T) / 2 if it is off by rounding.")
    _, info = torch.linalg.cholesky_ex(s)
    if (info != 0).any():
        raise ValueError(
            f"{cov_name} must be positive definite (its Cholesky factorization failed); "
            "a covariance has positive eigenvalues."
        )
    return m, s


def gaussian_kl(loc_q: object, cov_q: object, loc_p: object, cov_p: object) -> Tensor:
    """KL(N(loc_q, cov_q) || N(loc_p, cov_p)) in closed form (module docstring), shape (...) of the batch.

    Args:
        loc_q, loc_p: means, shape (..., D).
        cov_q, cov_p: covariances (not precisions), shape (..., D, D), symmetric positive definite.
    """
    m_q, s_q = _check_loc_cov(loc_q, cov_q, "loc_q", "cov_q")
    m_p, s_p = _check_loc_cov(loc_p, cov_p, "loc_p", "cov_p")
    d = m_q.shape[-1]
    if m_p.shape[-1] != d:
        raise ValueError(f"loc_q and loc_p must have the same dimension D (got {d} and {m_p.shape[-1]}).")
    chol_p = torch.linalg.cholesky(s_p)
    chol_q = torch.linalg.cholesky(s_q)
    # tr(S_p^-1 S_q) = ||L_p^-1 L_q||_F^2 and the Mahalanobis term ||L_p^-1 (m_p - m_q)||^2
    batch = torch.broadcast_shapes(chol_p.shape[:-2], chol_q.shape[:-2], m_p.shape[:-1], m_q.shape[:-1])
    chol_p_b = chol_p.expand(*batch, d, d)
    trace = torch.linalg.solve_triangular(chol_p_b, chol_q.expand(*batch, d, d), upper=False).pow(2).sum((-1, -2))
    diff = (m_p - m_q).expand(*batch, d).unsqueeze(-1)
    maha = torch.linalg.solve_triangular(chol_p_b, diff, upper=False).pow(2).sum((-1, -2))
    log_det_p = 2.0 * torch.log(torch.diagonal(chol_p, dim1=-2, dim2=-1)).sum(-1)
    log_det_q = 2.0 * torch.log(torch.diagonal(chol_q, dim1=-2, dim2=-1)).sum(-1)
    return 0.5 * (trace + maha - d + log_det_p - log_det_q)


def mean_field_reverse_kl(loc: object, cov: object) -> tuple[Tensor, Tensor]:
    """The diagonal Gaussian q = N(loc_q, diag(var_q)) minimizing KL(q || N(loc, cov)).

    loc_q = loc and var_q_i = 1 / (cov^-1)_ii: the optimal mean-field precisions are the diagonal of the
    posterior precision, so var_q_i <= cov_ii (equality only without correlation). Shapes (..., D) each.
    Chapter: *The evidence lower bound*.
    """
    m, s = _check_loc_cov(loc, cov, "loc", "cov")
    precision = torch.cholesky_inverse(torch.linalg.cholesky(s))
    return m.clone(), 1.0 / torch.diagonal(precision, dim1=-2, dim2=-1)


def mean_field_forward_kl(loc: object, cov: object) -> tuple[Tensor, Tensor]:
    """The diagonal Gaussian q = N(loc_q, diag(var_q)) minimizing KL(N(loc, cov) || q): moment matching,
    loc_q = loc and var_q_i = cov_ii. Shapes (..., D) each. Chapter: *The evidence lower bound*."""
    m, s = _check_loc_cov(loc, cov, "loc", "cov")
    return m.clone(), torch.diagonal(s, dim1=-2, dim2=-1).clone()
