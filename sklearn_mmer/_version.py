"""The package's version, in a module of its own: the model files and the
``mmer`` command read it without importing the package's ``__init__``."""

__version__ = "0.1.0.dev0"
