"""rnncourse: an interactive course on recurrent neural networks.

Subpackages: ``rnncourse.nn`` (the NumPy core), ``rnncourse.tasks`` (synthetic tasks and corpora),
``rnncourse.diagnostics``, ``rnncourse.viz`` (plots and explorers), ``rnncourse.grading``.
Importing the package is silent and cheap: plotting and widget libraries load only when used.
"""
__version__ = "0.1.0"
