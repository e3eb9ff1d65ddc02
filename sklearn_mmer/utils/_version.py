"""The package's version, apart from the package's ``__init__``: the model
files and the ``mmer`` command read it without importing the package (whose
``__init__`` imports the model files' module when ``save`` or ``load`` is
asked for: reading the version from there would close an import cycle)."""

__version__ = "0.1.0.dev0"
