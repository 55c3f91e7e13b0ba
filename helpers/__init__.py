"""helpers: the tested code behind the course *Variational inference and Monte Carlo gradient estimators*.

The package mirrors the book. ``common`` and ``models`` are what every part builds on; each part of the book has
its own namespace, and a chapter ``book/<part>/<chapter>.ipynb`` finds its code in ``helpers/<part>/``::

    import helpers
    from helpers import common, models, vi, estimators, deep

    cfg = helpers.setup(seed=0)          # seeds everything; cfg.scale.<part>.<size>, cfg.device, cfg.generator
    deep.elbo(model, x), estimators.score_function_gradient(...), vi.cavi_normal_gamma(...)

Import rule (tests/book/test_layout.py enforces it): common <- models <- vi <- estimators <- deep; a part may
import the parts before it in the book, never after. Importing the package changes no global state; every notebook
starts with ``cfg = helpers.setup(seed=...)``.

The top-level names below are kept for outside users of earlier versions; new code uses the part namespaces.
"""

from helpers import common, deep, estimators, models, vi  # noqa: I001 - the parts, after what they build on
from helpers.common.config import setup
from helpers.deep import VAE, elbo, iwelbo, load_images, train
from helpers.deep import log_evidence as log_likelihood  # its old name: log p(x), estimated by importance sampling
from helpers.estimators import elbo_estimate, reparameterization_gradient, score_function_gradient
from helpers.models import GammaPoisson, NormalGamma
from helpers.vi import bbvi_normal_gamma, cavi_normal_gamma

__version__ = "0.2.0"  # pyproject.toml's [project] version (tests/book/test_environment.py checks they agree)

__all__ = [
    "GammaPoisson",
    "NormalGamma",
    "VAE",
    "bbvi_normal_gamma",
    "cavi_normal_gamma",
    "common",
    "deep",
    "elbo",
    "elbo_estimate",
    "estimators",
    "iwelbo",
    "load_images",
    "log_likelihood",
    "models",
    "reparameterization_gradient",
    "score_function_gradient",
    "setup",
    "train",
    "vi",
]
