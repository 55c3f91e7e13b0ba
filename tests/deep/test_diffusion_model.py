"""helpers.deep.diffusion.model: the noise network (input checks, configuration, replicas), the ancestral sampler
against an exact reverse chain, and dequantization."""

import math

import numpy as np
import pytest
import torch
from _shared import Z_TOL

from helpers import deep
from helpers.deep import diffusion

dt = torch.float64


def test_the_network_is_a_deep_model():
    net = diffusion.NoiseMLP(2, 50, hidden=8, depth=2, embed_dim=6)
    assert net.replicas is None
    assert net.config == {"dim": 2, "num_steps": 50, "hidden": 8, "depth": 2, "embed_dim": 6}
    assert [type(m).__name__ for m in net.net] == ["Linear", "SiLU", "Linear", "SiLU", "Linear"]
    assert net.net[0].in_features == 2 + 6 and net(torch.zeros(5, 2), torch.arange(1, 6)).shape == (5, 2)
    first, second = (diffusion.NoiseMLP(2, 50, generator=torch.Generator().manual_seed(7)) for _ in range(2))
    for p1, p2 in zip(first.parameters(), second.parameters()):
        torch.testing.assert_close(p1, p2, rtol=0, atol=0)  # the generator decides the initialization
    bound = 1 / math.sqrt(first.net[0].in_features)
    assert float(first.net[0].weight.detach().abs().max()) <= bound


def test_check_input_converts_float64_and_refuses_bad_data():
    net = diffusion.NoiseMLP(2, 10, hidden=4, depth=1)
    x = torch.randn(5, 2, dtype=dt)
    assert net.check_input(x).dtype == torch.float32
    torch.testing.assert_close(net.check_input(x), x.float(), rtol=0, atol=0)
    torch.testing.assert_close(net.check_input(x.numpy()), x.float(), rtol=0, atol=0)
    assert net.double().check_input(x) is x  # a float64 model takes float64 data as they are
    net.float()
    for bad, error, match in (
        (x.tolist(), TypeError, "x must be a floating-point tensor"),
        (torch.ones(5, 2, dtype=torch.long), ValueError, "dtype torch.int64"),
        (torch.zeros(5, 3), ValueError, r"shape \(B, 2\)"),
        (torch.zeros(0, 2), ValueError, r"B >= 1"),
        (torch.full((5, 2), math.nan), ValueError, "NaN or inf"),
        (torch.full((5, 2), 1e300, dtype=dt), ValueError, "NaN or inf"),  # overflows float32
    ):
        with pytest.raises(error, match=match):
            net.check_input(bad)
    with pytest.raises(ValueError, match="x_train must have shape"):
        net.check_input(np.zeros((3, 1)), "x_train")


def test_a_stack_of_networks_computes_each_replica():
    nets = [diffusion.NoiseMLP(3, 20, hidden=16, depth=2, generator=torch.Generator().manual_seed(r)) for r in range(3)]
    stacked = deep.stack(nets)
    assert stacked.replicas == 3 and stacked.config == nets[0].config
    torch.testing.assert_close(stacked.freqs, nets[0].freqs, rtol=0, atol=0)  # the time features are shared
    g = torch.Generator().manual_seed(9)
    x, t = torch.randn((3, 7, 3), generator=g), torch.randint(1, 21, (3, 7), generator=g)
    out = stacked(x, t)
    for r, net in enumerate(nets):
        torch.testing.assert_close(out[r], net(x[r], t[r]))  # float32 rounding: a batched product per layer
    for net, back in zip(nets, deep.unstack(stacked)):
        for p, q in zip(net.state_dict().values(), back.state_dict().values()):
            torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_sampling_an_exact_reverse_chain_gives_its_marginal():
    """Data N(0, 1) and sigma_t^2 = beta_t: the optimal model's reverse kernels are the true ones and p(x_T) = q(x_T),
    so x_1 ~ N(0, 1) and the sampler's last step (the mean E[x_0 | x_1] = sqrt(abar_1) x_1) has variance abar_1."""
    s = diffusion.linear_schedule(50, 1e-3, 0.1)
    n = 20_000
    out = diffusion.sample(diffusion.gaussian_optimal_eps([0.0], [1.0], s), s, n, 1,
                           generator=torch.Generator().manual_seed(3), dtype=dt)  # fmt: skip
    assert out.shape == (n, 1) and out.dtype == dt
    var_ref = float(s.alpha_bar[0])
    assert abs(float(out.mean())) < Z_TOL * math.sqrt(var_ref / n)
    assert abs(float(out.var()) - var_ref) < Z_TOL * var_ref * math.sqrt(2 / n)
    with pytest.raises(ValueError, match="eps_model"):
        diffusion.sample(lambda x, t: x[:, :1], s, 3, 2)


def test_dequantize_bounds_and_errors():
    g = torch.Generator().manual_seed(6)
    x = torch.tensor([[0.0, 0.5, 1.0]])
    y = diffusion.dequantize(x, 17, generator=g)
    assert ((y >= torch.tensor([0, 8, 16]) / 17) & (y <= torch.tensor([1, 9, 17]) / 17)).all()
    with pytest.raises(ValueError, match="k / 16"):
        diffusion.dequantize(torch.tensor([[0.03]]), 17)
