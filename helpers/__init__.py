"""helpers: the tested code behind the course *Variational inference and Monte Carlo gradient estimators*.

The package mirrors the book. ``common`` and ``models`` are what every part builds on; each part of the book has
its own namespace, and a chapter ``book/<part>/<chapter>.ipynb`` finds its code in ``helpers/<part>/``::

    import helpers
    from helpers import common, models, vi, estimators, deep

    cfg = helpers.setup(seed=0)          # seeds everything; cfg.scale.<part>.<chapter>.<size>, cfg.generator
    deep.elbo(model, x), estimators.score_function_gradient(...), vi.cavi_normal_gamma(...)

Import rule (tests/book/test_layout.py enforces it): common <- models <- vi <- estimators <- deep; a part may
import the parts before it in the book, never after. Importing the package changes no global state; every notebook
starts with ``cfg = helpers.setup(seed=...)``.

The top-level names below are kept for outside users of earlier versions; new code uses the part namespaces.
"""

from helpers import common, deep, estimators, models, vi  # noqa: I001 - the parts, after what they build on
from helpers.common.config import Scale, Setup
from helpers.deep import VAE, elbo, iwelbo, load_images, train
from helpers.deep import log_evidence as log_likelihood  # its old name: log p(x), estimated by importance sampling
from helpers.estimators import elbo_estimate, reparameterization_gradient, score_function_gradient
from helpers.models import GammaPoisson, NormalGamma
from helpers.vi import bbvi_normal_gamma, cavi_normal_gamma

#: every part's sizes, {part: {scale name: the part's sizes}}: each from its ``helpers/<part>/scales.py``, where a
#: chapter's sizes are one frozen dataclass (a new chapter edits only its part's module; a new part adds one line)
SCALES = {"vi": vi.scales.SCALES, "estimators": estimators.scales.SCALES, "deep": deep.scales.SCALES}


def setup(seed: int = 0, *, scale: str | None = None, device: str | None = None) -> Setup:
    """The one call every chapter makes: :func:`helpers.common.setup` with every part's sizes, read as
    ``cfg.scale.<part>.<chapter>.<field>`` (e.g. ``cfg.scale.deep.iwae.epochs``).

    Seeds every random number generator, sets the numeric and plotting defaults and returns the seed, the scale,
    the device and a ``torch.Generator`` seeded with ``seed`` (``cfg.generator``); see
    :func:`helpers.common.setup` for the arguments and errors.
    """
    return common.setup(seed, scale=scale, device=device, parts=SCALES)


def get_scale(name: str | None = None) -> Scale:
    """The scale preset ``name`` (or ``$BOOK_SCALE``'s, or the default) with every part's sizes, as in ``cfg.scale``:
    e.g. ``helpers.get_scale("full").deep.iwae.epochs``. Raises ValueError for an unknown name."""
    return common.get_scale(name, parts=SCALES)


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
    "get_scale",
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
