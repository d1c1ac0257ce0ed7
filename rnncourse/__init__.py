"""rnncourse: an interactive course on recurrent neural networks.

Subpackages: ``rnncourse.nn`` (the NumPy core), ``rnncourse.tasks`` (synthetic tasks and corpora),
``rnncourse.diagnostics``, ``rnncourse.viz`` (plots and explorers), ``rnncourse.grading``.
Importing the package is silent and cheap: plotting and widget libraries load only when used.
"""


def _version():
    """The version has one home, ``pyproject.toml``; an installed package reads it from its
    metadata, a source tree that was never installed reads the file itself."""
    from importlib import metadata

    try:
        return metadata.version("rnncourse")
    except metadata.PackageNotFoundError:
        import re
        from pathlib import Path

        try:
            text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
        except OSError:
            return "0+unknown"
        m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', text)
        return m.group(1) if m else "0+unknown"


__version__ = _version()
