"""Models p(x, z) with exact (or quadrature-exact) answers, used as references by the chapters; imports
``helpers.common`` only, so every part of the book can use them."""

from helpers.models.conjugate_gaussian import ConjugateGaussian
from helpers.models.gamma_poisson import EXERCISE_DATA, GammaPoisson
from helpers.models.hierarchical import HierarchicalModel
from helpers.models.normal_gamma import NormalGamma

__all__ = ["EXERCISE_DATA", "ConjugateGaussian", "GammaPoisson", "HierarchicalModel", "NormalGamma"]
