"""Per-modality pipelines and early (feature-level) fusion."""

from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..neural import MLPClassifier
from ..preprocessing import TemporalPooling


def clone_or_default(classifier):
    """A clone of ``classifier``, or a fresh default :class:`MLPClassifier`."""
    return MLPClassifier() if classifier is None else clone(classifier)


def _check_modalities(modalities):
    if isinstance(modalities, str):
        modalities = [modalities]
    modalities = list(modalities)
    if not modalities:
        raise ValueError("modalities must name at least one column of X; got none")
    if len(set(modalities)) != len(modalities):
        raise ValueError(f"modalities must be distinct; got {modalities}")
    return modalities


def _modality_branch(pooling):
    return make_pipeline(TemporalPooling(pooling), StandardScaler())


def make_modality_pipeline(modality, *, pooling="mean", classifier=None):
    """Build the unimodal pipeline: pool one column over time, scale, classify.

    Parameters
    ----------
    modality : str
        The column of X to read, such as ``"acoustic"``; other columns
        (other modalities, ``speaker``) are ignored.
    pooling : str, default="mean"
        :class:`~sklearn_mmer.preprocessing.TemporalPooling` method.
    classifier : estimator or None, default=None
        Classifier to clone at the end; a default
        :class:`~sklearn_mmer.neural.MLPClassifier` when None.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``ColumnTransformer([(modality, [TemporalPooling, StandardScaler],
        modality)])`` followed by the classifier, with step names
        ``columntransformer`` and the classifier's lower-cased class name.

    See Also
    --------
    make_early_fusion : The same with several modalities concatenated.
    make_late_fusion : One such pipeline per modality, combined by voting.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mmer.fusion import make_modality_pipeline
    >>> pipe = make_modality_pipeline("acoustic", classifier=LogisticRegression())
    >>> [name for name, _ in pipe.steps]
    ['columntransformer', 'logisticregression']
    """
    (modality,) = _check_modalities([modality])
    return make_early_fusion([modality], pooling=pooling, classifier=classifier)


def make_early_fusion(modalities, *, pooling="mean", classifier=None):
    """Build early (feature-level) fusion: pool and scale each modality, concatenate.

    Each modality gets its own :class:`~sklearn_mmer.preprocessing.TemporalPooling`
    and :class:`~sklearn.preprocessing.StandardScaler` (scaled separately, as in
    the study), inside one :class:`~sklearn.compose.ColumnTransformer` whose
    branches are named by modality; the concatenated features feed one
    classifier.

    Parameters
    ----------
    modalities : list of str
        Columns of X to fuse, such as ``["visual", "acoustic", "lexical"]``.
    pooling : str or dict, default="mean"
        Pooling method for every modality, or a dict mapping each modality to
        its own method.
    classifier : estimator or None, default=None
        Classifier to clone at the end; a default
        :class:`~sklearn_mmer.neural.MLPClassifier` when None.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Parameters are reachable by nested names, such as
        ``columntransformer__visual__temporalpooling__method`` or
        ``mlpclassifier__hidden_dims``.

    See Also
    --------
    make_late_fusion : Decision-level fusion of per-modality pipelines.

    Examples
    --------
    >>> from sklearn_mmer.fusion import make_early_fusion
    >>> pipe = make_early_fusion(["acoustic", "lexical"], pooling="stats")
    >>> pipe.get_params()["columntransformer__lexical__temporalpooling__method"]
    'stats'
    """
    modalities = _check_modalities(modalities)
    if isinstance(pooling, dict):
        unknown = sorted(set(pooling) - set(modalities))
        if unknown:
            raise ValueError(
                f"pooling names modalities {unknown} that are not in "
                f"modalities={modalities}"
            )
        methods = {m: pooling.get(m, "mean") for m in modalities}
    else:
        methods = dict.fromkeys(modalities, pooling)
    columns = ColumnTransformer(
        [(m, _modality_branch(methods[m]), m) for m in modalities],
        remainder="drop",
    )
    return make_pipeline(columns, clone_or_default(classifier))
