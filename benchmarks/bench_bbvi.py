"""Speed of one BBVI iteration (helpers) against one Pyro SVI step on the same model and guide, side by side.

Both run the Normal-Gamma model of the chapter *Black-box VI* (N data points) with the mean-field guide
q(mu) q(tau) = N(mu_N, 1/lambda_N) Gamma(a_N, rate b_N), at S draws per iteration:

* ``helpers.vi.bbvi``: one score-function gradient with the leave-one-out control variate and one parameter update;
* Pyro ``SVI.step`` with ``Trace_ELBO(num_particles=S, vectorize_particles=True)`` (reparameterization gradients,
  Pyro's default for this guide) and an Adam update; optionally also the default, non-vectorized particle loop.

Before timing, the two ELBO estimates at the same q must agree within their standard errors (else timing them means
nothing). Usage: ``python benchmarks/bench_bbvi.py [--num-samples S] [--num-data N] [--repeats R] [--skip-loop]``.
``pyro-ppl`` is a test-only dependency: the helpers never import it.
"""

from __future__ import annotations

import argparse
import math

import pyro_normal_gamma
import torch
from timing import best_time

from helpers import common, models, vi

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)
OMEGA = torch.tensor([1.8, 40.0, 20.0, 9.0], dtype=DT)  # (mu_N, lambda_N, a_N, b_N)


def pyro_svi(x: torch.Tensor, num_samples: int, vectorize: bool):
    """A Pyro SVI object on the same model and guide, initialized at OMEGA."""
    pyro, model, guide = pyro_normal_gamma.model_and_guide(x, PRIOR, OMEGA)
    pyro.clear_param_store()
    elbo = pyro.infer.Trace_ELBO(num_particles=num_samples, vectorize_particles=vectorize, max_plate_nesting=1)
    return pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": 1e-3}), loss=elbo)


def check_same_elbo(x: torch.Tensor, num_samples: int) -> tuple[float, float, float, float]:
    """Both ELBO estimates at OMEGA, each from 40 x S draws: (ours, its SE, Pyro's, its SE); asserts agreement."""
    import pyro

    pyro.set_rng_seed(0)
    pyro.clear_param_store()
    svi = pyro_svi(x, num_samples, vectorize=True)
    pyro_values = torch.tensor([-svi.evaluate_loss() for _ in range(40)], dtype=DT)
    p_mean, p_se = common.mean_and_se(pyro_values)
    data, theta, g = vi.NormalGammaData.from_x(x), vi.to_unconstrained(OMEGA), torch.Generator().manual_seed(0)
    _, w = vi.normal_gamma_gradient(data, PRIOR, theta, 40 * num_samples, generator=g)
    o_mean, o_se = common.mean_and_se(w)
    exact = float(vi.normal_gamma_elbo(x, PRIOR, *OMEGA))
    z_tol = 4.5
    assert abs(float(p_mean) - float(o_mean)) < z_tol * math.hypot(float(p_se), float(o_se)), (p_mean, o_mean)
    assert abs(float(o_mean) - exact) < z_tol * float(o_se)
    return float(o_mean), float(o_se), float(p_mean), float(p_se)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=100)
    parser.add_argument("--num-data", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-loop", action="store_true", help="skip Pyro's non-vectorized particle loop")
    args = parser.parse_args()
    x = 2.0 + 0.7 * torch.randn(args.num_data, dtype=DT, generator=torch.Generator().manual_seed(0))

    ours, ours_se, theirs, theirs_se = check_same_elbo(x, args.num_samples)
    print(f"ELBO at the same q: helpers {ours:.3f} ± {ours_se:.3f}, Pyro Trace_ELBO {theirs:.3f} ± {theirs_se:.3f}")

    data, g = vi.NormalGammaData.from_x(x), torch.Generator().manual_seed(1)
    theta = [vi.to_unconstrained(OMEGA)]
    grad_sq = [torch.zeros(4, dtype=DT)]
    t = [0]

    def helpers_step() -> None:  # one iteration of bbvi(): gradient, AdaGrad accumulator, Robbins-Monro step
        grad, _ = vi.normal_gamma_gradient(data, PRIOR, theta[0], args.num_samples, generator=g)
        t[0] += 1
        grad_sq[0] = grad_sq[0] + grad * grad
        theta[0] = theta[0] + vi.step_sizes(grad_sq[0], t[0], 1e-3, 0.6) * grad

    rows = {"helpers.vi.bbvi (score function + leave-one-out CV)": helpers_step}
    svi_vec = pyro_svi(x, args.num_samples, vectorize=True)
    rows["Pyro SVI, Trace_ELBO, vectorized particles"] = svi_vec.step
    if not args.skip_loop:
        svi_loop = pyro_svi(x, args.num_samples, vectorize=False)
        rows["Pyro SVI, Trace_ELBO, particle loop"] = svi_loop.step
    times = {}
    for name, function in rows.items():
        if "Pyro" in name:
            import pyro

            pyro.clear_param_store()  # each SVI object re-creates its params from OMEGA on first use
        times[name] = best_time(function, args.repeats)

    base = times["helpers.vi.bbvi (score function + leave-one-out CV)"]
    print(
        f"One iteration, S = {args.num_samples} draws, N = {args.num_data} data; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"{'implementation':<52}{'us per iteration':>18}{'vs helpers':>12}")
    for name, seconds in times.items():
        print(f"{name:<52}{1e6 * seconds:>18.0f}{seconds / base:>11.1f}x")


if __name__ == "__main__":
    main()
