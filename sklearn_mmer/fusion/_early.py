"""Per-modality pipelines and early (feature-level) fusion."""

from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..preprocessing import SpeakerNormalizer, TemporalPooling
from ..utils._data import check_modalities, pooling_methods
from ._routing import resolve_request


def clone_or_default(classifier):
    """A clone of ``classifier``, or a fresh default :class:`MLPClassifier`.

    torch is imported only for the default: a fusion of scikit-learn
    classifiers, and a worker process unpickling one, never loads it.
    """
    if classifier is not None:
        return clone(classifier)
    from ..neural import MLPClassifier

    return MLPClassifier()


def _modality_branch(pooling):
    # Pooling turns a missing modality (a None cell) into a row of NaN, which
    # the scaler passes through; imputing 0 after scaling puts it at the
    # training mean, so that every utterance can still be classified.
    return make_pipeline(
        TemporalPooling(pooling),
        StandardScaler(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
    )


def make_modality_pipeline(
    modality,
    *,
    pooling="mean",
    classifier=None,
    speaker_normalization=False,
    request_groups=None,
):
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
    speaker_normalization : bool, default=False
        Whether to standardise the modality per speaker first, with a
        :class:`~sklearn_mmer.preprocessing.SpeakerNormalizer` step (which
        reads X's ``speaker`` column, and an unseen speaker's own unlabelled
        rows at predict time).
    request_groups : bool or None, default=None
        Whether to request routed ``groups`` (speakers) for every estimator
        inside whose ``fit`` takes them (each network, for a speaker-disjoint
        early-stopping split), as ``set_fit_request(groups=True)`` on each
        would. None requests them when scikit-learn's metadata routing is on
        at the time of the call, on each estimator with no request of its own
        yet (and leaves them unset when it is off), so that
        ``cross_validate(..., params={"groups": speakers})`` and
        ``GridSearchCV.fit(..., groups=speakers)`` run without further calls;
        True requests them on all (routing must be on); False never does.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``ColumnTransformer([(modality, [TemporalPooling, StandardScaler,
        SimpleImputer], modality)])`` followed by the classifier, with step
        names ``columntransformer`` and the classifier's lower-cased class
        name (and ``speakernormalizer`` first with speaker normalisation). A
        missing cell (None) is imputed with the training mean.

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
    (modality,) = check_modalities([modality])
    return make_early_fusion(
        [modality],
        pooling=pooling,
        classifier=classifier,
        speaker_normalization=speaker_normalization,
        request_groups=request_groups,
    )


def modality_members(
    modalities, *, pooling="mean", classifier=None, speaker_normalization=False
):
    """``[(modality, make_modality_pipeline(modality, ...)), ...]``, one per modality.

    The members of late fusion and stacking: named by modality, each with its
    own clone of ``classifier``.
    """
    return [
        (
            m,
            make_modality_pipeline(
                m,
                pooling=pooling,
                classifier=clone_or_default(classifier),
                speaker_normalization=speaker_normalization,
            ),
        )
        for m in check_modalities(modalities)
    ]


def make_early_fusion(
    modalities,
    *,
    pooling="mean",
    classifier=None,
    speaker_normalization=False,
    request_groups=None,
):
    """Build early (feature-level) fusion: pool and scale each modality, concatenate.

    Each modality gets its own :class:`~sklearn_mmer.preprocessing.TemporalPooling`
    and :class:`~sklearn.preprocessing.StandardScaler` (scaled separately, as in
    the study), inside one :class:`~sklearn.compose.ColumnTransformer` whose
    branches are named by modality; the concatenated features feed one
    classifier. A missing modality (a None cell) is imputed with its training
    mean, so an utterance is classified from the modalities it has.

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
    speaker_normalization : bool, default=False
        Whether to standardise the modalities per speaker first, with a
        :class:`~sklearn_mmer.preprocessing.SpeakerNormalizer` step named
        ``speakernormalizer`` (which reads X's ``speaker`` column, and an unseen
        speaker's own unlabelled rows at predict time).
    request_groups : bool or None, default=None
        Whether to request routed ``groups`` (speakers) for every estimator
        inside whose ``fit`` takes them (each network, for a speaker-disjoint
        early-stopping split), as ``set_fit_request(groups=True)`` on each
        would. None requests them when scikit-learn's metadata routing is on
        at the time of the call, on each estimator with no request of its own
        yet (and leaves them unset when it is off), so that
        ``cross_validate(..., params={"groups": speakers})`` and
        ``GridSearchCV.fit(..., groups=speakers)`` run without further calls;
        True requests them on all (routing must be on); False never does.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Parameters are reachable by nested names, such as
        ``columntransformer__visual__temporalpooling__method`` or
        ``mlpclassifier__hidden_layer_sizes``.

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
    modalities = check_modalities(modalities)
    methods = pooling_methods(pooling, modalities)
    columns = ColumnTransformer(
        [(m, _modality_branch(methods[m]), m) for m in modalities],
        remainder="drop",
    )
    steps = [columns, clone_or_default(classifier)]
    if speaker_normalization:
        steps.insert(0, SpeakerNormalizer(columns=modalities))
    pipeline = make_pipeline(*steps)
    return resolve_request(pipeline, request_groups)
