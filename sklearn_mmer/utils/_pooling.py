"""The temporal pooling methods, shared by the steps that pool frames."""

#: What each pooling method outputs, in order ("stats" is the usual
#: statistics pooling: mean then standard deviation).
POOLING_STATISTICS = {
    "mean": ("mean",),
    "max": ("max",),
    "min": ("min",),
    "std": ("std",),
    "first": ("first",),
    "last": ("last",),
    "stats": ("mean", "std"),
}


def pooling_methods(pooling, modalities):
    """The pooling method of each modality, from one method or a dict of them.

    A dict may leave modalities out (they get ``"mean"``) but may not name a
    modality that is not among ``modalities``.
    """
    if not isinstance(pooling, dict):
        return dict.fromkeys(modalities, pooling)
    unknown = sorted(set(pooling) - set(modalities), key=str)
    if unknown:
        raise ValueError(
            f"pooling names modalities {unknown} that are not among the "
            f"modalities read, {list(modalities)}"
        )
    return {m: pooling.get(m, "mean") for m in modalities}
