"""Self-checks for the exercises: a student passes their own function, the check runs it on seeded inputs against
the course's reference and says what is wrong (wrong shape, wrong sign, a missing term, scale and rate mixed up, a
bias in standard errors) without printing the solution. One module per chapter::

    from helpers import check
    check.iwae.iwelbo(my_iwelbo)          # -> "correct: ..." or "not yet: ... misses the - log K ..."

Each check returns a :class:`Feedback` (truthy when correct; a notebook shows its message). ``check`` consumes every
part of the package; nothing in the package imports it (tests/book/test_layout.py).
"""

from helpers.check import bbvi, cavi, diffusion, discrete, elbo, gradient_estimators, iwae, natural_gradients, stl, vae
from helpers.check._feedback import Feedback

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
    "vae",
]
