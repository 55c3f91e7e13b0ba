"""Self-checks of the deep chapters: a correct answer passes, each published mistake is named, a shape error is said."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import check

# ---------------------------------------------------------------------------------------------- vae


def _kl(variant: str = ""):
    def answer(mu, sigma):
        per_dim = {
            "variance": 0.5 * (mu**2 + sigma - 1 - torch.log(sigma)),
            "log sign": 0.5 * (mu**2 + sigma**2 - 1 + 2 * torch.log(sigma)),
            "reverse": torch.log(sigma) + (1 + mu**2) / (2 * sigma**2) - 0.5,
            "no half": mu**2 + sigma**2 - 1 - 2 * torch.log(sigma),
        }.get(variant, 0.5 * (mu**2 + sigma**2 - 1 - 2 * torch.log(sigma)))
        return {"no sum": per_dim, "batch sum": per_dim.sum()}.get(variant, per_dim.sum(-1))

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("variance", "as a variance"), ("log sign", "sign of the log term"), ("reverse", "reverse direction"),
     ("no half", "constant factor 2"), ("no sum", "not summed over the D"), ("batch sum", "summed over the batch")],
)  # fmt: skip
def test_vae_check_names_each_mistake(variant, says):
    feedback = check.vae.gaussian_kl(_kl(variant))
    assert not feedback and says in feedback.message, feedback


def test_vae_check_passes_torch_distributions():
    def by_torch(mu, sigma):
        q, p = torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
        return torch.distributions.kl_divergence(q, p).sum(-1)

    assert check.vae.gaussian_kl(by_torch) and check.vae.gaussian_kl(_kl())


# ---------------------------------------------------------------------------------------------- iwae


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda lw: torch.logsumexp(lw, 0), "misses the - log K"),
        (lambda lw: lw.mean(0), "that is the ELBO estimate"),
        (lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "reduces over the batch axis"),
        (lambda lw: torch.log(torch.exp(lw).mean(0)), "underflows: use torch.logsumexp"),
        (lambda lw: torch.logsumexp(lw, 0, keepdim=True) - math.log(7), "shape (1, 4)"),
    ],
)
def test_iwae_check_names_each_mistake(answer, says):
    feedback = check.iwae.iwelbo(answer)
    assert not feedback and says in feedback.message, feedback


def test_iwae_check_passes_the_course_iwelbo():
    assert check.iwae.iwelbo(lambda lw: torch.logsumexp(lw, 0) - math.log(lw.shape[0]))
    assert check.iwae.iwelbo(lambda lw: lw.max(0).values + torch.log(torch.exp(lw - lw.max(0).values).mean(0)))


# ---------------------------------------------------------------------------------------------- stl


def _path(variant: str = ""):
    def answer(log_joint, loc, scale, eps):
        loc_s = loc.expand_as(eps).clone().requires_grad_(True)
        scale_s = scale.expand_as(eps).clone().requires_grad_(True)
        z = loc_s + scale_s * eps
        if variant == "detach z":  # z detached as well as log q's parameters: every term is zero
            return torch.zeros(eps.shape[0], 2 * eps.shape[1], dtype=eps.dtype)
        keep = variant == "total"
        q = torch.distributions.Normal(loc_s if keep else loc_s.detach(), scale_s if keep else scale_s.detach())
        f = log_joint(z) - q.log_prob(z).sum(-1)
        grads = torch.autograd.grad(f.sum(), (loc_s, scale_s), allow_unused=True, materialize_grads=True)
        out = torch.cat(grads, -1)
        return {"sign": -out, "loc only": grads[0]}.get(variant, out)

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("total", "is the total derivative"), ("detach z", "z was detached"), ("sign", "wrong sign"),
     ("loc only", "shape (40, 2)")],
)  # fmt: skip
def test_stl_check_names_each_mistake(variant, says):
    feedback = check.stl.path_derivative(_path(variant))
    assert not feedback and says in feedback.message, feedback


def test_stl_check_passes_a_hand_written_path_derivative():
    assert check.stl.path_derivative(_path()), check.stl.path_derivative(_path())


# ---------------------------------------------------------------------------------------------- discrete


def _kl_grad(variant: str = ""):
    def answer(a, b):
        da = torch.sigmoid(a) * torch.sigmoid(-a) * (a - b)
        db = torch.sigmoid(b) - torch.sigmoid(a)
        return {
            "no factor": (a - b, db),
            "a sign": (-da, db),
            "b sign": (da, -db),
            "stacked": torch.stack([da, db])[:, :5],
        }.get(variant, (da, db))

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("no factor", "misses the factor dq/da"), ("a sign", "dKL/da has the wrong sign"),
     ("b sign", "dKL/db has the wrong sign"), ("stacked", "shape (2, 5)")],
)  # fmt: skip
def test_discrete_check_names_each_mistake(variant, says):
    feedback = check.discrete.bernoulli_kl_gradient(_kl_grad(variant))
    assert not feedback and says in feedback.message, feedback


def test_discrete_check_passes_the_closed_form_and_refuses_one_tensor():
    assert check.discrete.bernoulli_kl_gradient(_kl_grad())
    feedback = check.discrete.bernoulli_kl_gradient(lambda a, b: 0.0)
    assert not feedback and "pair (dKL/da, dKL/db)" in feedback.message


# ---------------------------------------------------------------------------------------------- diffusion


def _weights(variant: str = ""):
    def answer(betas):
        alphas = 1 - betas
        abar = torch.cumprod(alphas, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=betas.dtype), abar[:-1]])
        tilde = betas * (1 - abar_prev) / (1 - abar)
        sigma2 = betas if variant == "beta" else tilde
        lam = betas**2 / (2 * sigma2 * alphas * (1 - abar))
        snr = abar / (1 - abar)
        return {
            "half": 2 * lam[1:],
            "shift": 0.5 * (snr[1:-1] / snr[2:] - 1),
            "all t": lam,
        }.get(variant, lam[1:])

    return answer


@pytest.mark.parametrize(
    ("variant", "says"),
    [("beta", "sigma_t^2 = beta_t"), ("half", "constant factor 2"), ("shift", "shifted by one step"),
     ("all t", "includes t = 1")],
)  # fmt: skip
def test_diffusion_check_names_each_mistake(variant, says):
    feedback = check.diffusion.epsilon_weights(_weights(variant))
    assert not feedback and says in feedback.message, feedback


def test_diffusion_check_passes_the_snr_form():
    """The SNR form (SNR_{t-1} / SNR_t - 1) / 2 of the chapter's exercise is accepted: an independent derivation."""

    def snr_form(betas):
        abar = torch.cumprod(1 - betas, 0)
        snr = abar / (1 - abar)
        return 0.5 * (snr[:-1] / snr[1:] - 1)

    assert check.diffusion.epsilon_weights(snr_form), check.diffusion.epsilon_weights(snr_form)
    assert check.diffusion.epsilon_weights(_weights())
