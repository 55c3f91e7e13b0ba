"""Self-check for the chapter *Diffusion models* (book/deep/diffusion.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, as_float64, call, check_answer, compare, wrong
from helpers.deep.diffusion import epsilon_weights as reference_weights
from helpers.deep.diffusion import linear_schedule


def epsilon_weights(answer: object) -> Feedback:
    """Check ``answer(betas) -> (T - 1,)``, the weight lambda_t of E||eps - eps_theta||^2 in L_{t-1} for
    t = 2..T with the reverse variance sigma_t^2 = beta~_t (the posterior's):
    lambda_t = beta_t^2 / (2 beta~_t alpha_t (1 - abar_t)) = (SNR_{t-1} / SNR_t - 1) / 2 (Ho et al. 2020, eq. 12;
    Kingma et al. 2021). Feedback names sigma_t^2 = beta_t used instead, the missing 1/2, an index shifted by
    one step and the t = 1 term included."""
    fn = check_answer(answer)
    what = "your weights"
    schedule = linear_schedule(50, 1e-3, 0.2)
    value = call(fn, (schedule.betas.clone(),), what)
    if isinstance(value, Feedback):
        return value
    lam = reference_weights(schedule, "posterior")[0]
    snr = schedule.alpha_bar / (1 - schedule.alpha_bar)
    shifted = 0.5 * (snr[1:-1] / snr[2:] - 1)  # SNR_t / SNR_{t+1}: one step off
    mistakes = {
        "uses sigma_t^2 = beta_t; this exercise takes the posterior's variance beta~_t.": reference_weights(
            schedule, "beta"
        )[0][1:],
        "is shifted by one step: lambda_t = (SNR_{t-1} / SNR_t - 1) / 2 pairs t with t - 1.": shifted,
    }
    answer_t = as_float64(value, what)
    if isinstance(answer_t, Feedback):
        return answer_t
    if answer_t.shape == lam.shape and torch.allclose(answer_t[1:], lam[1:], rtol=1e-8):
        return wrong(
            what, "includes t = 1, whose term L_0 is the decoder's, not a weighted noise error: return t = 2..T."
        )
    return compare(
        answer_t,
        lam[1:],
        what=what,
        shape_hint="(T - 1,): one weight for each t = 2..T",
        mistakes=mistakes,
        inputs="for a 50-step linear schedule",
        rtol=1e-8,
    )
