"""The Normal–Gamma model and mean-field guide of the chapter *Black-box VI*, written in Pyro.

An independent implementation that ``benchmarks/bench_bbvi.py`` times against ``helpers.vi.bbvi`` and that
``tests/vi/test_bbvi.py`` cross-checks the BBVI ELBO and gradients against. Pyro is a test-only dependency: the
chapters and ``helpers`` never import it.

    model: tau ~ Gamma(a0, rate b0), mu | tau ~ N(mu0, 1/(lambda0 tau)), x_n ~ N(mu, 1/tau)
    guide: q(tau) = Gamma(a_N, rate b_N), q(mu) = N(mu_N, 1/lambda_N), parameters started at ``omega``
"""

from __future__ import annotations

import torch

from helpers import models


def model_and_guide(x: torch.Tensor, prior: models.NormalGamma, omega: torch.Tensor, reparameterized: bool = True):
    """(pyro, model, guide) for data ``x`` (N,) and initial q parameters ``omega`` = (mu_N, lambda_N, a_N, b_N).

    ``reparameterized=False`` marks the guide's draws as not reparameterizable, so that Pyro's TraceGraph_ELBO uses
    the score-function estimator.
    """
    import pyro
    import pyro.distributions as dist
    from pyro.distributions import constraints

    dtype = x.dtype

    def model():
        tau = pyro.sample("tau", dist.Gamma(torch.tensor(prior.a0, dtype=dtype), torch.tensor(prior.b0, dtype=dtype)))
        mu = pyro.sample("mu", dist.Normal(torch.tensor(prior.mu0, dtype=dtype), 1.0 / torch.sqrt(prior.lambda0 * tau)))
        with pyro.plate("data", x.numel(), dim=-1):
            pyro.sample("x", dist.Normal(mu, 1.0 / torch.sqrt(tau)), obs=x)

    def guide():
        mu_n = pyro.param("mu_N", omega[0].clone())
        lambda_n = pyro.param("lambda_N", omega[1].clone(), constraint=constraints.positive)
        a_n = pyro.param("a_N", omega[2].clone(), constraint=constraints.positive)
        b_n = pyro.param("b_N", omega[3].clone(), constraint=constraints.positive)
        pyro.sample("tau", dist.Gamma(a_n, b_n).has_rsample_(reparameterized))
        pyro.sample("mu", dist.Normal(mu_n, 1.0 / torch.sqrt(lambda_n)).has_rsample_(reparameterized))

    return pyro, model, guide
