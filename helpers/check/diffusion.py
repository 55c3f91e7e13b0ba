"""Self-check for the chapter *Diffusion models* (book/deep/diffusion.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, as_float64, call, check_answer, compare, precision_of, wrong
from helpers.deep.diffusion import epsilon_weights as reference_weights
from helpers.deep.diffusion import linear_schedule


def epsilon_weights(answer: object) -> Feedback:
    """Check ``answer(betas) -> (T - 1,)``, the weight lambda_t of E||eps - eps_theta||^2 in the term L_{t-1} of the
    diffusion bound, for t = 2..T, with the reverse variance sigma_t^2 = beta~_t (the forward posterior's).

    Shapes: ``betas`` (T,), the noise schedule beta_1..beta_T. References: Ho, Jain & Abbeel (2020), eq. (12);
    Kingma, Salimans, Poole & Ho (2021).

    Feedback names sigma_t^2 = beta_t used instead, a constant factor (the 1/2), an index shifted by one step and
    the t = 1 term included; answers of any floating dtype (or from a Python loop) are compared at their precision,
    which for the first steps is limited by 1 - abar_t (a difference of numbers near 1)."""
    fn = check_answer(answer)
    what = "your weights"
    schedule = linear_schedule(50, 1e-3, 0.2)
    value = call(fn, (schedule.betas.clone(),), what)
    if isinstance(value, Feedback):
        return value
    precision = precision_of(value)
    lam = reference_weights(schedule, "posterior")[0]
    abar = schedule.alpha_bar
    snr = abar / (1 - abar)
    shifted = 0.5 * (snr[1:-1] / snr[2:] - 1)  # SNR_t / SNR_{t+1}: one step off
    mistakes = {
        "uses sigma_t^2 = beta_t; this exercise takes the forward posterior's variance beta~_t.": reference_weights(
            schedule, "beta"
        )[0][1:],
        "is shifted by one step: it pairs t with t + 1 where the weight of L_{t-1} pairs t - 1 with t.": shifted,
    }
    # rounding: 1 - abar_{t-1} cancels (relative error ~ t abar / (1 - abar)), and so does SNR_{t-1} / SNR_t - 1
    t = torch.arange(2, len(abar) + 1, dtype=torch.float64)
    magnitude = lam[1:] * (8 + 2 * t * abar[:-1] / (1 - abar[:-1])) + 0.5 + lam[1:]
    answer_t = as_float64(value, what)
    if isinstance(answer_t, Feedback):
        return answer_t
    if answer_t.shape == lam.shape:
        if compare(answer_t[1:], lam[1:], what=what, shape_hint="", magnitude=magnitude, precision=precision).ok:
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
        magnitude=magnitude,
        precision=precision,
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_weights": epsilon_weights,
}
