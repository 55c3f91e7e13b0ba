"""helpers.common.densities against torch.distributions and scipy, including the edges of each support."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import generator
from scipy import stats

from helpers import common

DT = torch.float64


def test_normal_log_prob_matches_torch_distributions_and_the_noise_form():
    z = torch.randn(4, 3, 5, generator=generator(0), dtype=DT)
    mu = torch.randn(3, 5, generator=generator(1), dtype=DT)
    sigma = torch.rand(3, 5, generator=generator(2), dtype=DT) + 0.1
    reference = torch.distributions.Normal(mu, sigma).log_prob(z).sum(-1)
    torch.testing.assert_close(common.normal_log_prob(z, mu, sigma), reference)
    eps = (z - mu) / sigma
    torch.testing.assert_close(common.normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1)), reference)
    torch.testing.assert_close(
        common.standard_normal_log_prob(z), torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    )
    torch.testing.assert_close(
        common.normal_log_prob(z, 0.5, 2.0), torch.distributions.Normal(0.5, 2.0).log_prob(z).sum(-1)
    )
    log_var = 2 * torch.log(sigma)
    torch.testing.assert_close(common.normal_log_prob_log_var(z, mu, log_var), reference)
    torch.testing.assert_close(
        common.normal_log_prob_log_var(z, mu, 2 * math.log(0.3)),
        torch.distributions.Normal(mu, 0.3).log_prob(z).sum(-1),
    )


def test_gamma_log_prob_uses_the_rate_and_is_minus_infinity_off_the_support():
    x = torch.tensor([0.3, 1.0, 4.0, 0.0, -1.0], dtype=DT)
    got = common.gamma_log_prob(x, 2.5, 4.0)
    expected = stats.gamma(a=2.5, scale=1 / 4.0).logpdf(x[:3].numpy())  # scipy's scale is 1 / rate
    torch.testing.assert_close(got[:3], torch.as_tensor(expected))
    assert got[3] == -math.inf and got[4] == -math.inf
    # the published mistake, rate and scale swapped, is a different density: the test can tell them apart
    assert not torch.allclose(got[:3], torch.as_tensor(stats.gamma(a=2.5, scale=4.0).logpdf(x[:3].numpy())))


def test_bernoulli_log_prob_matches_torch_for_extreme_logits_and_intensities():
    logits = torch.tensor([[-1e4, -30.0, -1.0, 0.0, 2.5, 30.0, 1e4]], dtype=DT).repeat(2, 1)
    x = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], [0.2, 0.5, 0.9, 0.0, 1.0, 0.3, 1.0]], dtype=DT)
    got = common.bernoulli_log_prob(x, logits)
    softplus = logits.clamp(min=0) + torch.log1p(torch.exp(-logits.abs()))  # an independent stable form
    expected = (x * logits - softplus).sum(-1)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("num_samples", [1, 3])
def test_bernoulli_log_prob_broadcasts_over_leading_sample_axes(num_samples):
    x = torch.bernoulli(torch.full((4, 6), 0.5, dtype=DT), generator=generator(3))
    logits = torch.randn(num_samples, 4, 6, generator=generator(4), dtype=DT)
    got = common.bernoulli_log_prob(x, logits)
    assert got.shape == (num_samples, 4)
    torch.testing.assert_close(got, torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1))
