"""helpers.deep.vae against independent references: a linear-Gaussian VAE (probabilistic PCA) with exact log p(x) and an
exact posterior, torch.distributions log-densities, autograd on tiny models. Statistical checks are seeded with
tolerances of Z_TOL standard errors."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import Z_TOL, generator

from helpers import common, deep
from helpers.common.densities import normal_log_prob
from helpers.deep.objectives import standard_normal_kl

P, D, SIGMA = 5, 2, 0.5


def linear_gaussian(exact_posterior: bool = True, scale_factor: float = 1.0) -> tuple[deep.VAE, torch.Tensor]:
    """p(z) = N(0, I), p(x | z) = N(W z + b, SIGMA^2 I) with orthogonal columns of W, so the exact posterior
    N(S W^T (x - b) / SIGMA^2, S), S = (I + W^T W / SIGMA^2)^-1, is diagonal; the encoder is affine and set to it
    (or perturbed). Returns the float64 model and 4 data points x (4, P)."""
    model = deep.VAE(P, (), D, likelihood="gaussian", sigma=SIGMA, decoder_hidden_dims=()).double()
    q, _ = torch.linalg.qr(torch.randn(P, D, generator=generator(0), dtype=torch.float64))
    w = q * torch.tensor([1.5, 0.7], dtype=torch.float64)  # columns orthogonal, norms 1.5 and 0.7
    b = torch.linspace(-0.5, 0.5, P, dtype=torch.float64)
    post_var = 1.0 / (1.0 + (w**2).sum(0) / SIGMA**2)  # (D,)
    a = post_var[:, None] * w.T / SIGMA**2  # posterior mean = a (x - b)
    with torch.no_grad():
        model.decoder[-1].weight.copy_(w)
        model.decoder[-1].bias.copy_(b)
        enc = model.encoder[-1]
        enc.weight.zero_()
        enc.weight[:D] = a if exact_posterior else 0.8 * a
        enc.bias[:D] = -a @ b if exact_posterior else -0.8 * a @ b + 0.3
        enc.bias[D:] = 0.5 * torch.log(post_var) + math.log(scale_factor)
    x = torch.randn(4, P, generator=generator(1), dtype=torch.float64) + b
    return model, x


def exact_log_px(model: deep.VAE, x: torch.Tensor) -> torch.Tensor:
    w, b = model.decoder[-1].weight, model.decoder[-1].bias
    cov = w @ w.T + SIGMA**2 * torch.eye(P, dtype=torch.float64)
    return torch.distributions.MultivariateNormal(b, cov).log_prob(x).detach()


# ------------------------------------------------------------------------------------------ exact references
def test_every_bound_equals_log_px_when_q_is_the_exact_posterior():
    model, x = linear_gaussian(exact_posterior=True)
    reference = exact_log_px(model, x)
    g = generator(2)
    # with q = p(z | x) the weight p(x, z) / q(z | x) = p(x) for every z: no Monte Carlo error at all
    torch.testing.assert_close(deep.iwelbo(model, x, 7, generator=g).detach(), reference)
    torch.testing.assert_close(deep.elbo(model, x, 3, kl="monte-carlo", generator=g).detach(), reference)
    torch.testing.assert_close(deep.log_evidence(model, x, 100, chunk_size=7, generator=g), reference)
    torch.testing.assert_close(deep.log_weights(model, x, 9, generator=g).detach(), reference.expand(9, 4))


def test_log_likelihood_converges_to_the_exact_log_px_with_an_imperfect_q():
    model, x = linear_gaussian(exact_posterior=False, scale_factor=1.5)
    reference = exact_log_px(model, x)
    g = generator(3)
    estimates = torch.stack([deep.log_evidence(model, x, 5000, chunk_size=2048, generator=g) for _ in range(8)])
    mean, se = common.mean_and_se(estimates)
    # the bias of the K = 5,000 estimate is O(1/K); its spread is the SE
    assert (mean - reference).abs().max() < Z_TOL * se.max() + 1e-3
    assert se.max() < 0.02  # and it is close: within a few hundredths of a nat


def test_bounds_are_ordered_elbo_below_iwelbo_below_log_px():
    """E[L_1] <= E[L_K] <= log p(x) (Burda et al. 2016, Theorem 1), each mean with its standard error."""
    model, x = linear_gaussian(exact_posterior=False, scale_factor=1.5)
    reference = exact_log_px(model, x)
    xr = x.repeat(2000, 1)  # 2,000 independent estimates per data point
    g = generator(4)
    with torch.no_grad():
        l1 = deep.iwelbo(model, xr, 1, generator=g).view(2000, 4)
        l10 = deep.iwelbo(model, xr, 10, generator=g).view(2000, 4)
    m1, se1 = common.mean_and_se(l1)
    m10, se10 = common.mean_and_se(l10)
    gap_se = torch.sqrt(se1**2 + se10**2)
    assert (m1 < m10 - Z_TOL * gap_se).all(), "L_10 should be clearly above L_1 for this poor q"
    assert (m10 < reference + Z_TOL * se10).all()
    assert (m1 < reference - Z_TOL * se1).all()


def test_analytic_kl_equals_monte_carlo_kl():
    model, x = linear_gaussian(exact_posterior=False, scale_factor=1.5)
    mu, sigma = model.encode(x)
    eps = torch.randn((20_000, *mu.shape), generator=generator(5), dtype=torch.float64)
    z = mu + sigma * eps
    draws = (normal_log_prob(z, mu, sigma) - common.standard_normal_log_prob(z)).detach()
    mean, se = common.mean_and_se(draws)
    analytic = standard_normal_kl(mu, sigma).sum(-1).detach()
    assert ((mean - analytic).abs() < Z_TOL * se).all()
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
    )
    torch.testing.assert_close(standard_normal_kl(mu, sigma), reference)
    torch.testing.assert_close(deep.kl_per_dimension(model, x), reference.mean(0).detach())


def test_elbo_estimators_la_and_lb_have_the_same_expectation():
    model, x = linear_gaussian(exact_posterior=False, scale_factor=1.5)
    xr = x.repeat(3000, 1)
    with torch.no_grad():
        la = deep.elbo(model, xr, kl="monte-carlo", generator=generator(6)).view(3000, 4)
        lb = deep.elbo(model, xr, kl="analytic", generator=generator(7)).view(3000, 4)
    (ma, sa), (mb, sb) = common.mean_and_se(la), common.mean_and_se(lb)
    assert ((ma - mb).abs() < Z_TOL * torch.sqrt(sa**2 + sb**2)).all()
    # (L^B is NOT always the lower-variance one: here the Monte Carlo KL term is anti-correlated with
    # log p(x | z) and L^A has the smaller variance for every data point. Not a theorem, so not asserted.)


def test_iwelbo_with_one_sample_is_the_monte_carlo_elbo_on_the_same_draws():
    """Value and gradient: the reference run iwae/iwae-k1 stands for the sticking-the-landing chapter's VAE total
    derivative (catalogue.STL_ESTIMATORS), so training the two objectives is the same run up to rounding."""
    model, x = linear_gaussian(exact_posterior=False)
    a = deep.iwelbo(model, x, 1, generator=generator(8))
    b = deep.elbo(model, x, 1, kl="monte-carlo", generator=generator(8))
    torch.testing.assert_close(a, b)
    params = list(model.parameters())
    for ga, gb in zip(torch.autograd.grad(a.sum(), params), torch.autograd.grad(b.sum(), params)):
        torch.testing.assert_close(ga, gb)


def test_beta_weighs_the_kl():
    model, x = linear_gaussian(exact_posterior=False)
    mu, sigma = model.encode(x)
    kl = standard_normal_kl(mu, sigma).sum(-1)
    b1 = deep.elbo(model, x, 4, beta=1.0, generator=generator(9))
    b0 = deep.elbo(model, x, 4, beta=0.0, generator=generator(9))
    b3 = deep.elbo(model, x, 4, beta=3.0, generator=generator(9))
    torch.testing.assert_close(b0 - b1, kl)
    torch.testing.assert_close(b1 - b3, 2 * kl)


# ------------------------------------------------------------------------------------------ likelihoods
def test_bernoulli_log_prob_matches_torch_and_is_finite_for_extreme_logits():
    logits = torch.tensor([[-1e4, -30.0, -1.0, 0.0, 2.5, 30.0, 1e4]]).repeat(3, 1)
    x = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], [1.0] * 7, [0.0] * 7])
    ours = common.bernoulli_log_prob(x, logits)
    reference = torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, reference)
    # gradient: d/dl = x - sigmoid(l)
    logits = logits.clone().requires_grad_()
    (grad,) = torch.autograd.grad(common.bernoulli_log_prob(x, logits).sum(), logits)
    torch.testing.assert_close(grad, x - torch.sigmoid(logits.detach()))


@pytest.mark.parametrize("num_points, num_samples", [(20, 50), (300, 3), (7, 1)])
def test_fused_bernoulli_decoder_matches_torch_distributions_and_autograd(num_points, num_samples):
    torch.manual_seed(0)
    model = deep.VAE(30, (16,), 4)
    x = torch.bernoulli(torch.rand(num_points, 30, generator=generator(10)), generator=generator(11))
    z = torch.randn(num_samples, num_points, 4, generator=generator(12), requires_grad=True)
    params = [*model.decoder.parameters(), z]
    ours = model.log_likelihood(x, z)
    logits = model.decode(z)
    reference = torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-4)
    weights = torch.rand(ours.shape, generator=generator(13))
    got = torch.autograd.grad((ours * weights).sum(), params)
    expected = torch.autograd.grad((reference * weights).sum(), params)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.log_likelihood(x, z[0]), ours[0])  # z without the sample axis
    model.fused_likelihood = False  # plain autograd operations: same values and gradients
    plain = model.log_likelihood(x, z)
    torch.testing.assert_close(plain, ours)
    for a, b in zip(torch.autograd.grad((plain * weights).sum(), params), got):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_the_unfused_likelihood_is_differentiable_twice():
    torch.manual_seed(0)
    x = torch.bernoulli(torch.rand(3, 12, generator=generator(30)), generator=generator(31))
    z = torch.randn(2, 3, 2, generator=generator(32), requires_grad=True)
    plain = deep.VAE(12, (6,), 2, fused_likelihood=False)
    (grad_z,) = torch.autograd.grad(plain.log_likelihood(x, z).sum(), z, create_graph=True)
    (second,) = torch.autograd.grad(grad_z.square().sum(), z)  # e.g. a gradient-norm penalty
    assert torch.isfinite(second).all() and second.abs().sum() > 0
    fused = deep.VAE(12, (6,), 2)
    with pytest.raises(RuntimeError, match="fused_likelihood=False"):  # never a silently wrong 2nd derivative
        torch.autograd.grad(fused.log_likelihood(x, z).sum(), z, create_graph=True)
    # bernoulli_log_prob's hand-written backward is differentiable again: the same second derivative
    logits = plain.decode(z)
    (g1,) = torch.autograd.grad(common.bernoulli_log_prob(x, logits).sum(), z, create_graph=True)
    (g2,) = torch.autograd.grad(g1.square().sum(), z)
    torch.testing.assert_close(g2, second)


def test_gaussian_likelihoods_match_torch_normal():
    x = torch.rand(6, 10, generator=generator(14))
    z = torch.randn(3, 6, 2, generator=generator(15))
    fixed = deep.VAE(10, (8,), 2, likelihood="gaussian", sigma=0.1)
    mean = fixed.decode(z)
    torch.testing.assert_close(
        fixed.log_likelihood(x, z), torch.distributions.Normal(mean, 0.1).log_prob(x).sum(-1), rtol=1e-5, atol=1e-3
    )
    learned = deep.VAE(10, (8,), 2, likelihood="gaussian-learned")
    mean, log_var = learned.decode(z)
    assert mean.shape == log_var.shape == (3, 6, 10)
    reference = torch.distributions.Normal(mean, torch.exp(0.5 * log_var)).log_prob(x).sum(-1)
    torch.testing.assert_close(learned.log_likelihood(x, z), reference)
    floored = deep.VAE(10, (8,), 2, likelihood="gaussian-learned", min_log_var=-3.0)
    assert (floored.decode(z)[1] > -3.0).all()


# ------------------------------------------------------------------------------------------ path derivative
def test_path_derivative_gradient_is_the_total_gradient_minus_the_score_term():
    torch.manual_seed(1)
    model = deep.VAE(6, (5,), 3, likelihood="gaussian").double()
    x = torch.rand(4, 6, generator=generator(16), dtype=torch.float64)
    params = list(model.parameters())
    total = torch.autograd.grad(deep.elbo(model, x, 5, kl="monte-carlo", generator=generator(17)).sum(), params)
    path = torch.autograd.grad(
        deep.elbo(model, x, 5, kl="monte-carlo", path_derivative=True, generator=generator(17)).sum(), params
    )
    # the score term, recomputed on the same draws: d/dphi of -(1/K) sum_k log q(z_k; phi) at fixed z_k
    mu, sigma = model.encode(x)
    eps = torch.randn((5, *mu.shape), generator=generator(17), dtype=torch.float64)
    z = (mu + sigma * eps).detach()
    score = torch.autograd.grad(-normal_log_prob(z, mu, sigma).mean(0).sum(), params, allow_unused=True)
    for t, p, s in zip(total, path, score):
        torch.testing.assert_close(t - p, torch.zeros_like(t) if s is None else s)
    # values are the same; only gradients differ
    torch.testing.assert_close(
        deep.elbo(model, x, 5, kl="monte-carlo", path_derivative=True, generator=generator(18)),
        deep.elbo(model, x, 5, kl="monte-carlo", generator=generator(18)),
    )


def test_path_derivative_gradient_has_zero_variance_at_the_exact_posterior():
    """Roeder et al. 2017: with q = p(z | x), every path-derivative draw of the encoder gradient is 0; the total
    derivative's is not (its score term has mean zero but positive variance)."""
    model, x = linear_gaussian(exact_posterior=True)
    encoder = list(model.encoder.parameters())
    path_grads, total_grads = [], []
    for seed in range(20):
        for path_derivative, store in ((True, path_grads), (False, total_grads)):
            value = deep.elbo(
                model, x, 1, kl="monte-carlo", path_derivative=path_derivative, generator=generator(100 + seed)
            ).sum()
            store.append(torch.cat([g.flatten() for g in torch.autograd.grad(value, encoder)]))
    path, total = torch.stack(path_grads), torch.stack(total_grads)
    assert path.abs().max() < 1e-10
    assert total.var(0).max() > 1e-2
    # iwelbo: the same at the exact posterior
    value = deep.iwelbo(model, x, 5, path_derivative=True, generator=generator(99)).sum()
    assert max(g.abs().max() for g in torch.autograd.grad(value, encoder)) < 1e-10


# ------------------------------------------------------------------------------------------ model options
def test_shapes_of_encode_decode_and_objectives():
    model = deep.VAE(input_dim=784, hidden_dims=(200, 200), latent_dim=50, likelihood="bernoulli")
    x = torch.bernoulli(torch.full((3, 784), 0.3), generator=generator(19))
    mu, sigma = model.encode(x)
    assert mu.shape == sigma.shape == (3, 50) and (sigma > 0).all()
    assert model.decode(torch.zeros(7, 3, 50)).shape == (7, 3, 784)
    assert deep.elbo(model, x).shape == (3,)
    value = deep.iwelbo(model, x, num_samples=5)
    assert value.shape == (3,) and value.requires_grad
    assert deep.log_evidence(model, x, num_samples=50).shape == (3,)
    assert not deep.log_evidence(model, x, num_samples=50).requires_grad
    assert deep.log_weights(model, x, 4).shape == (4, 3)
    images = model.sample(6, generator=generator(20))
    assert images.shape == (6, 784) and ((images >= 0) & (images <= 1)).all()
    binary = model.sample(6, mean=False, generator=generator(20))
    assert set(binary.unique().tolist()) <= {0.0, 1.0}


def test_the_course_exercise_architecture():
    """Separate encoder networks for mu and sigma (two hidden layers of 20 ReLU units), sigmoid on sigma."""
    model = deep.VAE(
        784,
        (20, 20),
        5,
        likelihood="gaussian",
        sigma=0.1,
        activation="relu",
        encoder="separate",
        scale_activation="sigmoid",
    )
    assert [m.out_features for m in model.encoder_loc if isinstance(m, torch.nn.Linear)] == [20, 20, 5]
    assert [m.out_features for m in model.encoder_scale if isinstance(m, torch.nn.Linear)] == [20, 20, 5]
    assert isinstance(model.encoder_loc[1], torch.nn.ReLU)
    mu, sigma = model.encode(torch.rand(8, 784, generator=generator(21)))
    assert mu.shape == (8, 5) and ((sigma > 0) & (sigma < 1)).all()
    softplus = deep.VAE(10, (4,), 2, scale_activation="softplus")
    x = torch.rand(2, 10, generator=generator(0))
    torch.testing.assert_close(softplus.encode(x)[1], torch.nn.functional.softplus(softplus.encoder(x)[:, 2:]))


def test_active_units_and_latent_activity():
    model = deep.VAE(6, (), 4, likelihood="gaussian", decoder_hidden_dims=())
    with torch.no_grad():
        model.encoder[-1].weight.zero_()
        model.encoder[-1].weight[0, 0] = 1.0  # dim 0: mean = x_0 (variance about 1)
        model.encoder[-1].weight[1, 1] = 0.05  # dim 1: mean = 0.05 x_1 (variance about 0.0025 < 0.01)
        model.encoder[-1].weight[2, 2] = 0.5  # dim 2: variance about 0.25
    x = torch.randn(5000, 6, generator=generator(22))
    activity = deep.latent_activity(model, x, batch_size=700)
    expected = model.encode(x)[0].detach().var(0, correction=0)
    torch.testing.assert_close(activity, expected)
    assert deep.active_units(model, x) == 2
    assert deep.active_units(model, x, threshold=0.001) == 3


# ------------------------------------------------------------------------------------------ errors
def test_errors_name_the_argument():
    model = deep.VAE(784, (20,), 5)
    good = torch.rand(2, 784)
    with pytest.raises(ValueError, match=r"x must have shape \(B, 784\)"):
        deep.elbo(model, torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match="x contains NaN"):
        deep.iwelbo(model, torch.full((2, 784), float("nan")), 5)
    with pytest.raises(ValueError, match=r"in \[0, 1\] for the Bernoulli"):
        deep.elbo(model, good * 255)
    with pytest.raises(ValueError, match="num_samples"):
        deep.iwelbo(model, good, 0)
    with pytest.raises(ValueError, match="kl must be"):
        deep.elbo(model, good, kl="exact")
    with pytest.raises(ValueError, match="kl='monte-carlo'"):
        deep.elbo(model, good, path_derivative=True)
    with pytest.raises(ValueError, match="beta"):
        deep.elbo(model, good, beta=-1.0)
    with pytest.raises(ValueError, match="floating-point"):
        deep.elbo(model, torch.ones(2, 784, dtype=torch.int64))
    with pytest.raises(ValueError, match="likelihood must be one of"):
        deep.VAE(784, likelihood="poisson")
    with pytest.raises(ValueError, match="sigma must be"):
        deep.VAE(784, likelihood="gaussian", sigma=-0.1)
    with pytest.raises(ValueError, match="encoder must be one of"):
        deep.VAE(784, encoder="split")
    with pytest.raises(ValueError, match="latent_dim"):
        deep.VAE(784, latent_dim=0)
    with pytest.raises(ValueError, match="threshold"):
        deep.active_units(model, good, threshold=-1)
    with pytest.raises(ValueError, match="at least 2 rows"):
        deep.latent_activity(model, good[:1])


def test_the_private_kernels_compute_the_common_bernoulli_density():
    """deep/_kernels.py is a fast path: values and gradients equal helpers.common.bernoulli_log_prob."""
    from helpers.deep._kernels import BernoulliLogProb, LinearBernoulliLogProb

    x = torch.bernoulli(torch.full((9, 5), 0.4), generator=generator(20))
    logits = (3 * torch.randn(4, 9, 5, generator=generator(21))).requires_grad_()
    fast = BernoulliLogProb.apply(logits, x)
    plain = common.bernoulli_log_prob(x, logits)
    torch.testing.assert_close(fast, plain)
    weights = torch.rand(fast.shape, generator=generator(22))
    (g_fast,) = torch.autograd.grad((fast * weights).sum(), logits)
    (g_plain,) = torch.autograd.grad((plain * weights).sum(), logits)
    torch.testing.assert_close(g_fast, g_plain)
    h = torch.randn(4, 9, 6, generator=generator(23), requires_grad=True)
    layer = torch.nn.Linear(6, 5)
    fused = LinearBernoulliLogProb.apply(h, layer.weight, layer.bias, x)
    reference = common.bernoulli_log_prob(x, layer(h))
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-5)
    got = torch.autograd.grad((fused * weights).sum(), (h, layer.weight, layer.bias))
    want = torch.autograd.grad((reference * weights).sum(), (h, layer.weight, layer.bias))
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("num_pixels", [784, 64, 5])
def test_the_grouped_log_sigmoid_sum_equals_the_sum_of_logs(num_pixels):
    """_kernels.sum_log_sigmoid multiplies groups of sigmoids before one log: the same sum as float64 sum of logs,
    to float32 rounding, from |a| = 0 (log 1/2 each) to |a| = 90 (sigmoid rounds to 1), no underflow."""
    from helpers.deep._kernels import BernoulliLogProb, sum_log_sigmoid

    a = (20 * torch.randn(6, 3, num_pixels, generator=generator(30))).abs()
    a[0] = 0.0
    a[1] = 90.0
    want = torch.log(torch.sigmoid(a.double())).sum(-1)
    got = sum_log_sigmoid(a)
    torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=1e-4)
    x = torch.bernoulli(torch.full((3, num_pixels), 0.3), generator=generator(31))
    logits = a - 10.0
    torch.testing.assert_close(BernoulliLogProb.apply(logits, x), common.bernoulli_log_prob(x, logits))


def test_fast_tanh_is_tanh_with_its_derivatives_and_vmap():
    """_kernels.fast_tanh (2 sigmoid(2x) - 1, the VAE's tanh layers) against torch.tanh: values within 3e-7,
    first and second derivatives, and torch.func.vmap of its gradient."""
    from helpers.deep._kernels import fast_tanh

    x = torch.cat([torch.linspace(-20, 20, 401), torch.tensor([0.0, 1e-6, -1e-6])]).requires_grad_()
    torch.testing.assert_close(fast_tanh(x), torch.tanh(x), rtol=0, atol=3e-7)
    (g,) = torch.autograd.grad(fast_tanh(x).sum(), x, create_graph=True)
    (g_ref,) = torch.autograd.grad(torch.tanh(x).sum(), x, create_graph=True)
    torch.testing.assert_close(g, g_ref, rtol=0, atol=1e-6)
    (h,) = torch.autograd.grad(g.sum(), x)
    (h_ref,) = torch.autograd.grad(g_ref.sum(), x)
    torch.testing.assert_close(h, h_ref, rtol=0, atol=2e-6)
    rows = torch.randn(5, 3, generator=generator(40))
    per_row = torch.func.vmap(torch.func.grad(lambda r: fast_tanh(r).square().sum()))(rows)
    torch.testing.assert_close(per_row, 2 * torch.tanh(rows) * (1 - torch.tanh(rows) ** 2), rtol=1e-5, atol=1e-6)
