"""Self-checks of the deep chapters. Each check passes a correct answer in float64, in float32 and written as a Python
loop, and its valid alternatives (said so); each published mistake is named; an answer off by a little more than its
dtype's rounding and a shape error are said."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from helpers import check, deep

F32, F64 = torch.float32, torch.float64
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _precision(dtype: torch.dtype) -> str:
    return "agrees to float32 precision" if dtype == F32 else "agrees to float64 precision"


def _nudged(answer, by: float = 1e-3):
    """``answer`` with the last entry of its result moved by ``by`` times the largest: must be refused."""

    def nudged(*args):
        value = answer(*args)
        if isinstance(value, tuple):
            return (*value[:-1], _nudge(value[-1], by))
        return _nudge(value, by)

    return nudged


def _nudge(value, by):
    value = value.clone()
    value.view(-1)[-1] += by * float(value.abs().max())
    return value


# ---------------------------------------------------------------------------------------------- vae: KL


def _kl(variant: str = "", dtype: torch.dtype = F64):
    def answer(mu, sigma):
        mu, sigma = mu.to(dtype), sigma.to(dtype)
        per_dim = {
            "variance": 0.5 * (mu**2 + sigma - 1 - torch.log(sigma)),
            "log sign": 0.5 * (mu**2 + sigma**2 - 1 + 2 * torch.log(sigma)),
            "reverse": torch.log(sigma) + (1 + mu**2) / (2 * sigma**2) - 0.5,
            "no half": mu**2 + sigma**2 - 1 - 2 * torch.log(sigma),
        }.get(variant, 0.5 * (mu**2 + sigma**2 - 1 - 2 * torch.log(sigma)))
        return {"no sum": per_dim, "batch sum": per_dim.sum()}.get(variant, per_dim.sum(-1))

    return answer


def _kl_loop(dtype: torch.dtype):
    def answer(mu, sigma):
        out = torch.zeros(mu.shape[0], dtype=dtype)
        for b, (m_row, s_row) in enumerate(zip(mu.tolist(), sigma.tolist(), strict=True)):
            for m, s in zip(m_row, s_row, strict=True):
                out[b] += 0.5 * (m * m + s * s - 1) - math.log(s)
        return out

    return answer


def _kl_by_torch(mu, sigma):
    return torch.distributions.kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).sum(-1)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_vae_kl_check_passes_correct_answers_at_their_precision(dtype):
    for answer in (_kl(dtype=dtype), _kl_loop(dtype), lambda m, s: _kl_by_torch(m.to(dtype), s.to(dtype))):
        feedback = check.vae.gaussian_kl(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.vae.gaussian_kl(_nudged(answer))


@pytest.mark.parametrize(
    ("variant", "says"),
    [("variance", "as a variance"), ("log sign", "sign of the log term"), ("reverse", "reverse direction"),
     ("no half", "constant factor 2"), ("no sum", "not summed over the D"), ("batch sum", "summed over the batch")],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F64, F32])
def test_vae_kl_check_names_each_mistake(variant, says, dtype):
    feedback = check.vae.gaussian_kl(_kl(variant, dtype))
    assert not feedback and says in feedback.message, feedback


# ---------------------------------------------------------------------------------------------- vae: log q


def _log_q(variant: str = "", dtype: torch.dtype = F64):
    """log q(z | x) written as a student would, with the slips a student makes."""

    def answer(z, mu, sigma):
        z, mu, sigma = z.to(dtype), mu.to(dtype), sigma.to(dtype)
        quad = {
            "precedence": (z - mu) ** 2 / 2 * sigma**2,  # the misplaced parenthesis: (a / 2) * sigma^2
            "2 sigma squared": (z - mu) ** 2 / (2 * sigma) ** 2,
            "mu over sigma": (z - mu / sigma) ** 2 / 2,
            "variance": (z - mu) ** 2 / (2 * sigma),
        }.get(variant, (z - mu) ** 2 / (2 * sigma**2))
        log_det = {"no log det": 0.0, "log sigma squared": 2 * torch.log(sigma),
                   "variance": 0.5 * torch.log(sigma)}.get(variant, torch.log(sigma))  # fmt: skip
        const = 0.0 if variant == "no constant" else HALF_LOG_2PI
        per_dim = (quad if variant == "plus quadratic" else -quad) - log_det - const
        return per_dim if variant == "no sum" else per_dim.sum(-1)

    return answer


def _log_q_loop(dtype: torch.dtype):
    def answer(z, mu, sigma):
        num, batch, dim = z.shape
        out = torch.zeros(num, batch, dtype=dtype)
        for k in range(num):
            for b in range(batch):
                for d in range(dim):
                    r = float(z[k, b, d] - mu[b, d]) / float(sigma[b, d])
                    out[k, b] += -0.5 * r * r - math.log(float(sigma[b, d])) - HALF_LOG_2PI
        return out

    return answer


def _log_q_forms(dtype: torch.dtype):
    """Valid ways of writing log q: torch.distributions, a multivariate normal, the noise form."""
    return [
        lambda z, m, s: Normal(m.to(dtype), s.to(dtype)).log_prob(z.to(dtype)).sum(-1),
        lambda z, m, s: Independent(Normal(m.to(dtype), s.to(dtype)), 1).log_prob(z.to(dtype)),
        lambda z, m, s: MultivariateNormal(m.to(dtype), torch.diag_embed(s.to(dtype) ** 2)).log_prob(z.to(dtype)),
        lambda z, m, s: (
            (-0.5 * ((z - m) / s) ** 2).sum(-1).to(dtype) - torch.log(s).sum(-1).to(dtype) - z.shape[-1] * HALF_LOG_2PI
        ),
    ]


@pytest.mark.parametrize("dtype", [F64, F32])
def test_vae_log_q_check_passes_correct_answers_at_their_precision(dtype):
    for answer in [_log_q(dtype=dtype), _log_q_loop(dtype), *_log_q_forms(dtype)]:
        feedback = check.vae.gaussian_log_q(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.vae.gaussian_log_q(_nudged(answer))


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("precedence", "multiplies the squared distance by sigma^2 (a misplaced parenthesis"),
        ("2 sigma squared", "(2 sigma)^2"),
        ("mu over sigma", "divides only mu by sigma"),
        ("variance", "treats sigma as a variance"),
        ("no log det", "misses the normalizer's - log sigma"),
        ("log sigma squared", "log-determinant of the scale twice"),
        ("no constant", "misses the constant - log(2 pi) / 2"),
        ("plus quadratic", "squared distance with the wrong sign"),
        ("no sum", "not summed over the D latent dimensions"),
    ],
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_vae_log_q_check_names_each_mistake(variant, says, dtype):
    feedback = check.vae.gaussian_log_q(_log_q(variant, dtype))
    assert not feedback and says in feedback.message, feedback


# ---------------------------------------------------------------------------------------------- iwae: IWELBO


def _iwelbo_loop(dtype: torch.dtype):
    def answer(log_w):
        num, batch = log_w.shape
        out = torch.zeros(batch, dtype=dtype)
        for b in range(batch):
            column = log_w[:, b].tolist()
            top = max(column)
            out[b] = top + math.log(sum(math.exp(v - top) for v in column) / num)
        return out

    return answer


@pytest.mark.parametrize("dtype", [F64, F32])
def test_iwelbo_check_passes_correct_answers_at_their_precision(dtype):
    answers = [
        lambda lw: torch.logsumexp(lw.to(dtype), 0) - math.log(lw.shape[0]),
        lambda lw: (lambda top: top + torch.log(torch.exp(lw - top).mean(0)))(lw.max(0).values).to(dtype),
        _iwelbo_loop(dtype),
    ]
    for answer in answers:
        feedback = check.iwae.iwelbo(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.iwae.iwelbo(_nudged(answer))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda lw: torch.logsumexp(lw, 0), "misses the - log K"),
        (lambda lw: lw.mean(0), "that is the ELBO estimate"),
        (lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "reduces over the batch axis"),
        (lambda lw: torch.log(torch.exp(lw).mean(0)), "underflows: use torch.logsumexp"),
        (lambda lw: torch.log(torch.exp(lw.float()).mean(0)), "underflows: use torch.logsumexp"),
        (lambda lw: torch.logsumexp(lw, 0, keepdim=True) - math.log(7), "shape (1, 4)"),
    ],
)
def test_iwelbo_check_names_each_mistake(answer, says):
    feedback = check.iwae.iwelbo(answer)
    assert not feedback and says in feedback.message, feedback


# ---------------------------------------------------------------------------------------------- iwae: log-weights


def _log_weights(variant: str = "", dtype: torch.dtype = F64, log_q=None):
    log_q = log_q or _log_q(dtype=dtype)

    def answer(log_likelihood, mu, sigma, eps):
        mu, sigma, eps = mu.to(dtype), sigma.to(dtype), eps.to(dtype)
        if variant == "own noise":
            eps = torch.randn(eps.shape, dtype=dtype)
        z = mu + (sigma**2 if variant == "variance draws" else sigma) * eps
        ll = log_likelihood(z).to(dtype)
        lp = (-0.5 * z**2 - (0.0 if variant in ("no constants", "constant in q only") else HALF_LOG_2PI)).sum(-1)
        lq = log_q(z, mu, sigma**2 if variant == "variance draws" else sigma)
        if variant == "no constants":  # dropped from both densities: they cancel, a valid form
            lq = lq + z.shape[-1] * HALF_LOG_2PI
        if variant == "constant in p only":
            lq = lq + z.shape[-1] * HALF_LOG_2PI
        if variant == "closed-form KL":
            return ll - (0.5 * (mu**2 + sigma**2 - 1) - torch.log(sigma)).sum(-1)
        out = ll + (0.0 if variant == "no prior" else lp) + (lq if variant == "plus log q" else -lq)
        return {"mean": out.mean(0), "iwelbo": torch.logsumexp(out, 0) - math.log(out.shape[0])}.get(variant, out)

    return answer


def _log_weights_loop(dtype: torch.dtype):
    def answer(log_likelihood, mu, sigma, eps):
        num, batch, _ = eps.shape
        out = torch.zeros(num, batch, dtype=dtype)
        for k in range(num):
            z = mu + sigma * eps[k]  # (B, D)
            ll = log_likelihood(z[None])[0]
            for b in range(batch):
                prior = Normal(0.0, 1.0).log_prob(z[b]).sum()
                encoder = Normal(mu[b], sigma[b]).log_prob(z[b]).sum()
                out[k, b] = ll[b] + prior - encoder
        return out

    return answer


@pytest.mark.parametrize("dtype", [F64, F32])
def test_log_weights_check_passes_correct_answers_at_their_precision(dtype):
    answers = [_log_weights(dtype=dtype), _log_weights_loop(dtype), _log_weights("no constants", dtype)]
    answers += [_log_weights(dtype=dtype, log_q=form) for form in _log_q_forms(dtype)]
    for answer in answers:
        feedback = check.iwae.log_weights(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.iwae.log_weights(_nudged(answer))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_log_weights(log_q=_log_q("precedence")), "slip in log q(z | x): it multiplies the squared distance"),
        (_log_weights(log_q=_log_q("mu over sigma")), "divides only mu by sigma"),
        (_log_weights(log_q=_log_q("no log det")), "misses the normalizer's - log sigma"),
        (_log_weights(log_q=_log_q("log sigma squared")), "log-determinant of the scale twice"),
        (_log_weights(log_q=_log_q("variance")), "treats sigma as a variance"),
        (_log_weights("no prior"), "misses log p(z)"),
        (_log_weights("plus log q"), "adds log q(z | x)"),
        (_log_weights("closed-form KL"), "closed-form KL"),
        (_log_weights("constant in q only"), "in log q(z | x) but not in log p(z)"),
        (_log_weights("constant in p only"), "in log p(z) but not in log q(z | x)"),
        (_log_weights("variance draws"), "draws z with sigma**2"),
        (_log_weights("own noise"), "draws its own random numbers"),
        (_log_weights("mean"), "an average over the K draws"),
        (_log_weights("iwelbo"), "returns the IWELBO"),
        (lambda *args: _log_weights()(*args)[..., None], "shape (5, 4, 1)"),
    ],
    ids=["precedence", "mu over sigma", "no log det", "log sigma squared", "variance", "no prior", "plus log q",
         "closed-form KL", "constant in q only", "constant in p only", "variance draws", "own noise", "mean",
         "iwelbo", "shape"],
)  # fmt: skip
def test_log_weights_check_names_each_mistake(answer, says):
    feedback = check.iwae.log_weights(answer)
    assert not feedback and says in feedback.message, feedback


def test_the_log_weights_reference_is_the_course_log_weights():
    """The check's reference equals deep.gaussian_log_weights' formula (log p(x, z) - log q(z)) for the check's
    decoder, computed independently with torch.distributions."""
    from helpers.check import iwae as module

    g = torch.Generator().manual_seed(1)
    mu, sigma = torch.randn((4, 3), generator=g, dtype=F64), torch.rand((4, 3), generator=g, dtype=F64) + 0.3
    eps = torch.randn((5, 4, 3), generator=g, dtype=F64)
    z = mu + sigma * eps
    logits = z @ module._W + module._BIAS
    ll = torch.distributions.Bernoulli(logits=logits).log_prob(module._IMAGES).sum(-1)
    expected = ll + Normal(0.0, 1.0).log_prob(z).sum(-1) - Normal(mu, sigma).log_prob(z).sum(-1)
    torch.testing.assert_close(module._log_likelihood(z), ll)
    torch.testing.assert_close(_log_weights()(module._log_likelihood, mu, sigma, eps), expected)


# ---------------------------------------------------------------------------------------------- stl


def _path(variant: str = "", dtype: torch.dtype = F64):
    def answer(log_joint, loc, scale, eps):
        loc_s = loc.expand_as(eps).to(dtype).clone().requires_grad_(True)
        scale_s = scale.expand_as(eps).to(dtype).clone().requires_grad_(True)
        z = loc_s + scale_s * eps.to(dtype)
        if variant == "detach z":  # z detached as well as log q's parameters: every term is zero
            return torch.zeros(eps.shape[0], 2 * eps.shape[1], dtype=dtype)
        keep = variant == "total"
        q = Normal(loc_s if keep else loc_s.detach(), scale_s if keep else scale_s.detach())
        f = log_joint(z).to(dtype) - q.log_prob(z).sum(-1)
        grads = torch.autograd.grad(f.sum(), (loc_s, scale_s), allow_unused=True, materialize_grads=True)
        out = torch.cat(grads, -1)
        return {"sign": -out, "loc only": grads[0], "interleaved": out[:, [0, 2, 1, 3]]}.get(variant, out)

    return answer


def _path_loop(dtype: torch.dtype):
    def answer(log_joint, loc, scale, eps):
        out = torch.zeros(eps.shape[0], 2 * eps.shape[1], dtype=dtype)
        for s in range(eps.shape[0]):
            out[s] = _path()(log_joint, loc, scale, eps[s : s + 1])[0]
        return out

    return answer


@pytest.mark.parametrize("dtype", [F64, F32])
def test_stl_check_passes_correct_answers_at_their_precision(dtype):
    for answer in (_path(dtype=dtype), _path_loop(dtype)):
        feedback = check.stl.path_derivative(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.stl.path_derivative(_nudged(answer))


def test_stl_check_recognizes_the_u_terms_then_the_v_terms():
    feedback = check.stl.path_derivative(_path("interleaved"))
    assert feedback and "right numbers, other order" in feedback.message, feedback


@pytest.mark.parametrize(
    ("variant", "says"),
    [("total", "is the total derivative"), ("detach z", "was z itself detached"), ("sign", "wrong sign"),
     ("loc only", "shape (40, 2)")],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F64, F32])
def test_stl_check_names_each_mistake(variant, says, dtype):
    feedback = check.stl.path_derivative(_path(variant, dtype))
    assert not feedback and says in feedback.message, feedback


# ---------------------------------------------------------------------------------------------- discrete: KL gradient


def _kl_grad(variant: str = "", dtype: torch.dtype = F64):
    def answer(a, b):
        a, b = a.to(dtype), b.to(dtype)
        da = torch.sigmoid(a) * torch.sigmoid(-a) * (a - b)
        db = torch.sigmoid(b) - torch.sigmoid(a)
        return {
            "no factor": (a - b, db),
            "a sign": (-da, db),
            "b sign": (da, -db),
            "stacked": torch.stack([da, db])[:, :5],
        }.get(variant, (da, db))

    return answer


def _kl_grad_loop(dtype: torch.dtype):
    def answer(a, b):
        da, db = torch.zeros(len(a), dtype=dtype), torch.zeros(len(a), dtype=dtype)
        for i, (a_i, b_i) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            q, p = 1 / (1 + math.exp(-a_i)), 1 / (1 + math.exp(-b_i))
            da[i], db[i] = q * (1 - q) * (a_i - b_i), p - q
        return da, db

    return answer


def _kl_grad_by_autograd(a, b):
    a, b = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    return torch.autograd.grad(deep.bernoulli_kl(a, b).sum(), (a, b))


@pytest.mark.parametrize("dtype", [F64, F32])
def test_discrete_kl_check_passes_correct_answers_at_their_precision(dtype):
    answers = [_kl_grad(dtype=dtype), _kl_grad_loop(dtype), lambda a, b: _kl_grad_by_autograd(a.to(dtype), b.to(dtype))]
    for answer in answers:
        feedback = check.discrete.bernoulli_kl_gradient(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.discrete.bernoulli_kl_gradient(_nudged(answer))
    stacked = check.discrete.bernoulli_kl_gradient(lambda a, b: torch.stack(_kl_grad(dtype=dtype)(a, b)))
    assert stacked and _precision(dtype) in stacked.message  # one (2, n) tensor is a pair too


@pytest.mark.parametrize(
    ("variant", "says"),
    [("no factor", "misses the factor dq/da"), ("a sign", "dKL/da has the wrong sign"),
     ("b sign", "dKL/db has the wrong sign"), ("stacked", "shape (2, 5)")],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F64, F32])
def test_discrete_kl_check_names_each_mistake(variant, says, dtype):
    feedback = check.discrete.bernoulli_kl_gradient(_kl_grad(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_discrete_kl_check_refuses_one_number():
    feedback = check.discrete.bernoulli_kl_gradient(lambda a, b: 0.0)
    assert not feedback and "pair (dKL/da, dKL/db)" in feedback.message


# ------------------------------------------------------------------------------------------ discrete: Gumbel-Softmax


def _gumbel(variant: str = "", dtype: torch.dtype = F64):
    def answer(a, u, tau):
        a, u = a.to(dtype), u.to(dtype)
        gumbel = -torch.log(-torch.log(u))
        g = {"plus log log": -gumbel, "exponential": -torch.log(u), "log u": torch.log(u), "u itself": u,
             "one minus u": -torch.log(-torch.log(1 - u))}.get(variant, gumbel)  # fmt: skip
        logits = {"softmax first": torch.softmax(a, -1), "log of logits": torch.log(a)}.get(variant, a)
        scores = {
            "no temperature": logits + g,
            "times temperature": (logits + g) * tau,
            "noise over tau": logits + g / tau,
            "logits over tau": logits / tau + g,
        }.get(variant, (logits + g) / tau)
        if variant == "naive":  # exp and normalize: overflows for large scores
            e = torch.exp(scores)
            return e / e.sum(-1, keepdim=True)
        if variant == "hard":
            return torch.nn.functional.one_hot(scores.argmax(-1), a.shape[-1]).to(dtype)
        return {"log": torch.log_softmax(scores, -1), "axis": torch.softmax(scores, 0)}.get(
            variant, torch.softmax(scores, -1)
        )

    return answer


def _gumbel_loop(dtype: torch.dtype):
    def answer(a, u, tau):
        out = torch.zeros(u.shape, dtype=dtype)
        for s in range(u.shape[0]):
            for b in range(u.shape[1]):
                scores = [(float(a[b, k]) - math.log(-math.log(float(u[s, b, k])))) / tau for k in range(u.shape[2])]
                top = max(scores)
                weights = [math.exp(v - top) for v in scores]
                for k, w in enumerate(weights):
                    out[s, b, k] = w / sum(weights)
        return out

    return answer


@pytest.mark.parametrize("dtype", [F64, F32])
def test_gumbel_softmax_check_passes_correct_answers_at_their_precision(dtype):
    answers = [_gumbel(dtype=dtype), _gumbel_loop(dtype)]
    for answer in answers:
        feedback = check.discrete.gumbel_softmax(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.discrete.gumbel_softmax(_nudged(answer))


def test_gumbel_softmax_check_accepts_the_noise_from_one_minus_u_and_says_so():
    feedback = check.discrete.gumbel_softmax(_gumbel("one minus u"))
    assert feedback and "1 - u" in feedback.message and "valid" in feedback.message, feedback


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("softmax first", "adds the noise to the probabilities softmax(a)"),
        ("log of logits", "takes the log of the logits as if they were probabilities"),
        ("plus log log", "Gumbel noise with the wrong sign"),
        ("exponential", "uses -log u"),
        ("log u", "uses log u as the noise"),
        ("u itself", "adds u itself"),
        ("no temperature", "leaves out the temperature"),
        ("times temperature", "multiplies by the temperature"),
        ("noise over tau", "divides only the noise"),
        ("logits over tau", "divides only the logits"),
        ("axis", "wrong axis"),
        ("log", "returns log y"),
        ("hard", "hard Gumbel-max draw"),
        ("naive", "overflows"),
    ],
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_gumbel_softmax_check_names_each_mistake(variant, says, dtype):
    feedback = check.discrete.gumbel_softmax(_gumbel(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_the_gumbel_softmax_reference_is_deep_categorical_reparametrize():
    """With the same uniforms, the check's reference is the course's helper (replayed through a seeded generator)."""
    from helpers.check import discrete as module

    a = module._CASES[0][0]
    u = torch.rand((6, *a.shape), generator=torch.Generator().manual_seed(4), dtype=F64)
    by_helper = deep.categorical_reparametrize(logits=a, num_samples=6, temperature=0.5,
                                               generator=torch.Generator().manual_seed(4))  # fmt: skip
    torch.testing.assert_close(module._relaxed(a, u, 0.5), by_helper)


# ---------------------------------------------------------------------------------------------- diffusion


def _weights(variant: str = "", dtype: torch.dtype = F64):
    def answer(betas):
        betas = betas.to(dtype)
        alphas = 1 - betas
        abar = torch.cumprod(alphas, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=dtype), abar[:-1]])
        tilde = betas * (1 - abar_prev) / (1 - abar)
        sigma2 = betas if variant == "beta" else tilde
        lam = betas**2 / (2 * sigma2 * alphas * (1 - abar))
        snr = abar / (1 - abar)
        return {
            "half": 2 * lam[1:],
            "shift": 0.5 * (snr[1:-1] / snr[2:] - 1),
            "all t": lam,
            "snr": 0.5 * (snr[:-1] / snr[1:] - 1),
        }.get(variant, lam[1:])

    return answer


def _weights_loop(dtype: torch.dtype):
    def answer(betas):
        out = torch.zeros(len(betas) - 1, dtype=dtype)
        abar = 1.0
        for t, beta in enumerate(betas.tolist()):
            if t > 0:  # lambda_t = beta_t / (2 alpha_t (1 - abar_{t-1})), t = 2..T
                out[t - 1] = beta / (2 * (1 - beta) * (1 - abar))
            abar *= 1 - beta
        return out

    return answer


@pytest.mark.parametrize("dtype", [F64, F32])
def test_diffusion_check_passes_correct_answers_at_their_precision(dtype):
    """The beta~ form, the SNR form of the chapter's exercise (an independent derivation) and a loop."""
    for answer in (_weights(dtype=dtype), _weights("snr", dtype), _weights_loop(dtype)):
        feedback = check.diffusion.epsilon_weights(answer)
        assert feedback and _precision(dtype) in feedback.message, feedback
        assert not check.diffusion.epsilon_weights(_nudged(answer))


@pytest.mark.parametrize(
    ("variant", "says"),
    [("beta", "sigma_t^2 = beta_t"), ("half", "constant factor 2"), ("shift", "shifted by one step"),
     ("all t", "includes t = 1")],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F64, F32])
def test_diffusion_check_names_each_mistake(variant, says, dtype):
    feedback = check.diffusion.epsilon_weights(_weights(variant, dtype))
    assert not feedback and says in feedback.message, feedback


def test_the_float32_answers_pass_with_a_quarter_of_the_tolerance(monkeypatch):
    """Margin: every float32 answer above passes with the tolerance divided by 4."""
    from helpers.check import _feedback

    monkeypatch.setattr(_feedback, "ULPS", _feedback.ULPS / 4)
    assert check.vae.gaussian_kl(_kl(dtype=F32)) and check.vae.gaussian_kl(_kl_loop(F32))
    assert all(check.vae.gaussian_log_q(a) for a in [_log_q(dtype=F32), _log_q_loop(F32), *_log_q_forms(F32)])
    assert check.iwae.iwelbo(_iwelbo_loop(F32)) and check.iwae.log_weights(_log_weights(dtype=F32))
    assert check.iwae.log_weights(_log_weights_loop(F32))
    assert check.stl.path_derivative(_path(dtype=F32)) and check.stl.path_derivative(_path_loop(F32))
    assert check.discrete.bernoulli_kl_gradient(_kl_grad(dtype=F32))
    assert check.discrete.gumbel_softmax(_gumbel(dtype=F32)) and check.discrete.gumbel_softmax(_gumbel_loop(F32))
    assert all(check.diffusion.epsilon_weights(a) for a in (_weights(dtype=F32), _weights("snr", F32)))
