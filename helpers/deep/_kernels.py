"""Fast Bernoulli log-likelihood kernels for :class:`helpers.deep.VAE` (private: the maths is in ``vae.py``).

Two ``torch.autograd.Function``s with hand-written backward passes, for speed on the CPU (benchmarks/RESULTS.md):

* :class:`BernoulliLogProb`: sum_p [x_p l_p - softplus(l_p)] from logits, with d/dl = x - sigmoid(l);
* :class:`LinearBernoulliLogProb`: the decoder's last affine layer and that log-likelihood, fused and blocked.

Both compute exactly :func:`helpers.common.densities.bernoulli_log_prob` (tests/deep/test_vae.py checks values
and gradients); ``VAE(..., fused_likelihood=False)`` uses that plain version instead.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: rows (sample, data point) of logits formed at once by the fused Bernoulli decoder: 256 x 784 floats = 800 kB
BLOCK_ROWS = 256
#: pixels multiplied together before one logarithm in :func:`sum_log_sigmoid`: each factor is in [1/2, 1], so a
#: product of 8 is in [1/256, 1] (no underflow, float32 rounding as for the sum of logs)
PRODUCT_GROUP = 8


def sum_log_sigmoid(a: Tensor) -> Tensor:
    """sum_p log sigmoid(a_p) over the last axis for a >= 0 (so each sigmoid is in [1/2, 1]): (..., P) -> (...).

    torch's elementwise log is several times slower than sigmoid on the CPU, so the sigmoids of groups of
    ``PRODUCT_GROUP`` pixels are multiplied first (vectorized products of whole rows) and only P / 8 logarithms
    are taken: log prod = sum log. Overwrites nothing; a (contiguous) (..., P) input with P divisible by the group
    uses the grouped form, any other the plain one.
    """
    s = torch.sigmoid(a)
    num_pixels = s.shape[-1]
    if num_pixels % PRODUCT_GROUP or not s.is_contiguous():
        return s.log_().sum(-1)
    return s.view(*s.shape[:-1], PRODUCT_GROUP, num_pixels // PRODUCT_GROUP).prod(-2).log_().sum(-1)


class BernoulliLogProb(torch.autograd.Function):
    """sum_p [x_p l_p - softplus(l_p)] with a hand-written backward, d/dl = x - sigmoid(l).

    Written out because torch's softplus (and binary_cross_entropy_with_logits) are not vectorized on the CPU, and
    the IWAE training step spends most of its non-matmul time here (``benchmarks/bench_iwae.py --ablation`` measures
    what it saves; the numbers are in benchmarks/RESULTS.md). softplus(l) = max(l, 0) - log sigmoid(|l|),
    where sigmoid(|l|) is in [1/2, 1]: no overflow, no log(0), for any finite l.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(logits, x)
        return (logits * x).sum(-1) - logits.clamp(min=0).sum(-1) + sum_log_sigmoid(logits.abs())

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:  # type: ignore[override]
        logits, x = ctx.saved_tensors
        grad_logits = grad_x = None
        if ctx.needs_input_grad[0]:
            if torch.is_grad_enabled():  # create_graph=True: out of place, so it is differentiable again
                grad_logits = (x - torch.sigmoid(logits)) * grad.unsqueeze(-1)
            else:
                grad_logits = torch.sigmoid(logits).neg_().add_(x).mul_(grad.unsqueeze(-1))
        if ctx.needs_input_grad[1]:
            grad_x = (logits * grad.unsqueeze(-1)).sum_to_size(x.shape)
        return grad_logits, grad_x


class LinearBernoulliLogProb(torch.autograd.Function):
    """log p(x | z) for a Bernoulli decoder whose last layer is affine, l = h W^T + b, fused and blocked.

    h (K, B, H) -> (K, B). The logits are formed in blocks of about ``BLOCK_ROWS`` (sample, data point) rows,
    so that each block's elementwise work (softplus, the x . l term, sigmoid(l) for the backward pass) runs while
    the block is in the L2 cache; only sigmoid(l) (K B P) is kept for the backward pass, which is
    dL/dl = (x - sigmoid(l)) g, then one matmul for h's gradient and one for W's. Its speed-up over autograd
    through the unfused layer is measured by ``benchmarks/bench_iwae.py --ablation`` (benchmarks/RESULTS.md). x gets
    no gradient.
    """

    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, bias: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        h3 = h.reshape(-1, x.shape[0], h.shape[-1])  # (K, B, H)
        need_grad = any(ctx.needs_input_grad[:3])
        sig = torch.empty((*h3.shape[:2], x.shape[1]), dtype=h.dtype, device=h.device) if need_grad else None
        out = linear_bernoulli_log_prob(h, weight, bias, x, sigmoid_out=sig)
        if sig is not None:
            ctx.save_for_backward(h3, weight, sig, x)
        ctx.h_shape = h.shape
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        if torch.is_grad_enabled():  # create_graph=True: sigmoid(l) was saved without a graph
            raise RuntimeError(
                "the fused Bernoulli likelihood of helpers.deep.VAE is differentiable once; for higher derivatives "
                "(create_graph=True) build the model with fused_likelihood=False."
            )
        h3, weight, sig, x = ctx.saved_tensors
        num_pixels = x.shape[-1]
        # dL/dl = (x - sigmoid(l)) g with g one number per row (sample, data point): d = x - sigmoid(l) is formed
        # in place in the saved buffer (one pass), and g scales the H-wide rows of h and of d W instead of the
        # P-wide rows of d: grad_h = g (d W), grad_W = d^T (g h), grad_b = d^T g
        d = torch.sub(x, sig, out=sig).view(-1, num_pixels)
        g = grad.reshape(-1, 1)
        grad_h = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_h = (d @ weight).mul_(g).view(ctx.h_shape)
        if ctx.needs_input_grad[1]:
            grad_w = d.t() @ (h3.reshape(-1, h3.shape[-1]) * g)
        if ctx.needs_input_grad[2]:
            grad_b = d.t() @ g.view(-1)
        return grad_h, grad_w, grad_b, None


def linear_bernoulli_log_prob(h: Tensor, weight: Tensor, bias: Tensor, x: Tensor, sigmoid_out: Tensor | None = None
                              ) -> Tensor:  # fmt: skip
    """The forward pass of :class:`LinearBernoulliLogProb` (no graph): h (K, B, H) -> (K, B).

    Called directly when no gradient is needed (evaluation), so that sigmoid(l) is not formed: for a trained decoder
    many logits are very negative and their sigmoids are subnormal floats, on which the CPU is many times slower.
    With ``sigmoid_out`` (K, B, P), sigmoid(l) is written into it for the backward pass.
    """
    num_points, num_pixels = x.shape
    h3 = h.reshape(-1, num_points, h.shape[-1])  # (K, B, H)
    out = torch.empty(h3.shape[:2], dtype=h.dtype, device=h.device)
    k_step = max(1, BLOCK_ROWS // num_points)
    b_step = min(num_points, BLOCK_ROWS)
    weight_t = weight.t()
    for k0 in range(0, h3.shape[0], k_step):
        for b0 in range(0, num_points, b_step):
            rows = h3[k0 : k0 + k_step, b0 : b0 + b_step]
            xb = x[b0 : b0 + b_step]
            logits = torch.addmm(bias, rows.reshape(-1, rows.shape[-1]), weight_t).view(*rows.shape[:2], -1)
            value = (logits * xb).sum(-1) - logits.clamp(min=0).sum(-1)
            if sigmoid_out is not None:
                torch.sigmoid(logits, out=sigmoid_out[k0 : k0 + k_step, b0 : b0 + b_step])
            value += sum_log_sigmoid(logits.abs_())  # log sigmoid(|l|) = -softplus(-|l|)
            out[k0 : k0 + k_step, b0 : b0 + b_step] = value
    return out.view(h.shape[:-1])


class _TanhFromSigmoid(torch.autograd.Function):
    """tanh(x) = 2 sigmoid(2x) - 1, with d tanh / dx = 1 - tanh^2 from the saved output.

    torch's CPU tanh is several times slower than its sigmoid (benchmarks/RESULTS.md, the IWAE step's profile);
    the identity is exact, the float32 result within 2e-7 of tanh (absolute). The backward pass is written with
    differentiable operations on the saved output (as torch's own tanh), so double backward works, and the vmap
    rule is generated, so ``torch.func`` transforms work too.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:  # type: ignore[override]
        return torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:  # type: ignore[override]
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (y,) = ctx.saved_tensors
        if torch.is_grad_enabled():
            return grad * (1.0 - y * y)
        return torch.ops.aten.tanh_backward(grad, y)


def fast_tanh(x: Tensor) -> Tensor:
    """tanh(x), computed as 2 sigmoid(2x) - 1 (faster on the CPU; see :class:`_TanhFromSigmoid`)."""
    return _TanhFromSigmoid.apply(x)


class FastTanh(torch.nn.Module):
    """``nn.Tanh`` through :func:`fast_tanh`: the tanh layers of :func:`helpers.deep.vae.mlp`."""

    def forward(self, x: Tensor) -> Tensor:
        return fast_tanh(x)
