"""Self-checks for the exercises: a student passes their own function, the check runs it on seeded inputs against
the course's reference and says what is wrong (wrong shape, wrong sign, a missing term, scale and rate mixed up, a
bias in standard errors) without printing the solution. One module per chapter::

    from helpers import check
    check.iwae.iwelbo(my_iwelbo)          # -> "correct: ..." or "not yet: ... misses the - log K ..."

Each check returns a :class:`Feedback` (truthy when correct; a notebook shows its message). An answer is compared at
the precision of its dtype (a float32 answer "agrees to float32 precision"), valid alternative forms are accepted and
named (a closed-form entropy, the right columns in another order), and a Python loop passes as well as vectorized
code. The docstrings give each check's signature and shapes, not the formula. ``check`` consumes every part of the
package; nothing in the package imports it (tests/book/test_layout.py).

The checks by chapter: ``elbo.elbo_estimate``; ``cavi.q_tau_update``; ``bbvi.gaussian_score``;
``natural_gradients.gamma_fisher_scale``; ``gradient_estimators.score_function`` and ``.reparameterization``;
``vae.gaussian_kl`` and ``.gaussian_log_q``; ``iwae.iwelbo`` and ``.log_weights``; ``stl.path_derivative``;
``discrete.bernoulli_kl_gradient`` and ``.gumbel_softmax``; ``diffusion.epsilon_weights``.

``check.summary("vae")`` runs all of a chapter's checks at once on the student's functions, found by their names in
the chapter's self-check cells (each module's ``SELF_CHECKS`` table: ``my_kl``, ``my_log_q``, ...), and prints one
line per exercise: correct, not yet, or not attempted (missing, or raising ``NotImplementedError``).
"""

from helpers.check import bbvi, cavi, diffusion, discrete, elbo, gradient_estimators, iwae, natural_gradients, stl, vae
from helpers.check._feedback import Feedback
from helpers.check.summary import summary  # the function shadows its module's name: check.summary("vae")

__all__ = [
    "Feedback",
    "bbvi",
    "cavi",
    "diffusion",
    "discrete",
    "elbo",
    "gradient_estimators",
    "iwae",
    "natural_gradients",
    "stl",
    "summary",
    "vae",
]
