"""Models with exact (or quadrature-exact) answers, used as references by the chapters."""

from helpers.models.gamma_poisson import EXERCISE_DATA, GammaPoisson
from helpers.models.hierarchical import HierarchicalModel
from helpers.models.normal_gamma import NormalGamma

__all__ = ["EXERCISE_DATA", "GammaPoisson", "HierarchicalModel", "NormalGamma"]
