"""sklearn-mmer: multimodal emotion recognition as scikit-learn estimators."""

__version__ = "0.1.0.dev0"
