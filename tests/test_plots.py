"""Figures of a comparison: content, order, valid PNG files, and their displays."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402

from sklearn_mmer.evaluation import (  # noqa: E402
    ConfusionMatricesDisplay,
    MethodComparisonDisplay,
    ModalityContributionDisplay,
    PerClassRecallDisplay,
    PerSpeakerDisplay,
    plot_confusion_matrices,
    plot_method_comparison,
    plot_modality_contribution,
    save_figures,
    summarize,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = np.array(["anger", "sadness", "happiness", "neutral"])
MEANS = {
    "visual": 0.4,
    "acoustic": 0.5,
    "lexical": 0.6,
    "early_fusion": 0.65,
    "late_fusion": 0.62,
}


@pytest.fixture
def comparison():
    """A made-up comparison of the default methods over three folds."""
    rng = np.random.RandomState(0)
    rows = [
        {
            "method": name,
            "fold": fold,
            "f1_micro": mean + 0.02 * (fold - 2),
            "f1_macro": mean - 0.05,
            "unweighted_accuracy": mean - 0.03,
            "fit_seconds": 1.0 + fold,
        }
        for name, mean in MEANS.items()
        for fold in (1, 2, 3)
    ]
    results = pd.DataFrame(rows)
    matrices = {name: rng.randint(0, 20, size=(3, 4, 4)) for name in MEANS}
    return Bunch(
        results=results,
        summary=summarize(results),
        confusion_matrices=matrices,
        labels=LABELS,
    )


def test_save_figures_writes_valid_pngs(comparison, tmp_path):
    kinds = {
        "visual": "unimodal",
        "acoustic": "unimodal",
        "lexical": "unimodal",
        "early_fusion": "early_fusion",
        "late_fusion": "late_fusion",
    }
    paths = save_figures(
        comparison,
        tmp_path / "out",
        modalities=["visual", "acoustic", "lexical"],
        kinds=kinds,
    )
    assert [p.name for p in paths] == [
        "method_comparison.png",
        "modality_contribution.png",
        "confusion_matrices.png",
    ]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000


def test_modality_contribution_is_skipped_without_unimodal_methods(
    comparison, tmp_path
):
    paths = save_figures(comparison, tmp_path)
    assert [p.name for p in paths] == [
        "method_comparison.png",
        "confusion_matrices.png",
    ]


@pytest.mark.parametrize("interval", ["std", "ci"])
def test_method_comparison_lists_best_first_with_error_bars(comparison, interval):
    ax = plot_method_comparison(comparison.results, interval=interval).axes[0]
    ticks = zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()])
    top_down = [label for _, label in sorted(ticks, reverse=True)]
    assert top_down == [
        "early_fusion",
        "late_fusion",
        "lexical",
        "acoustic",
        "visual",
    ]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == sorted(round(m, 6) for m in MEANS.values())
    texts = {t.get_text() for t in ax.texts}
    if interval == "std":
        assert "0.650 ± 0.016" in texts  # std over folds with ddof=0
    else:
        # folds 0.63, 0.65, 0.67: s**2 = 0.0004, n_test / n_train = 1 / 2,
        # half-width t_{0.975, 2} * sqrt((1/3 + 1/2) * 0.0004) = 0.0786
        assert "0.650 [0.571, 0.729]" in texts


def test_modality_contribution_shows_each_modality_and_fusion_levels(comparison):
    figure = plot_modality_contribution(
        comparison.results,
        ["visual", "acoustic", "lexical"],
        fusion=["early_fusion"],
    )
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "lexical",
        "acoustic",
        "visual",
    ]
    assert len(ax.patches) == 3 * 3  # three metrics per modality
    (line,) = ax.get_lines()[-1:]
    assert line.get_ydata()[0] == pytest.approx(0.65)


def test_confusion_matrices_are_row_normalised_sums_over_folds(comparison):
    figure = plot_confusion_matrices(
        comparison.confusion_matrices, LABELS, methods=["lexical", "late_fusion"]
    )
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["lexical", "late_fusion"]
    shown = panels[0].images[0].get_array()
    counts = comparison.confusion_matrices["lexical"].sum(axis=0)
    np.testing.assert_allclose(shown, counts / counts.sum(axis=1, keepdims=True))


def test_empty_confusion_rows_stay_zero():
    counts = np.array([[2, 2], [0, 0]])
    figure = plot_confusion_matrices({"m": counts}, ["a", "b"])
    np.testing.assert_allclose(
        figure.axes[0].images[0].get_array(), [[0.5, 0.5], [0, 0]]
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda c: plot_method_comparison(c.results, metric="accuracy"),
            "metric 'accuracy' is not a column of results",
        ),
        (
            lambda c: plot_modality_contribution(c.results, ["audio"]),
            r"modalities \['audio'\] have no results",
        ),
        (
            lambda c: plot_confusion_matrices(c.confusion_matrices, ["a", "b"]),
            r"has shape \(4, 4\), not \(2, 2\)",
        ),
        (
            lambda c: plot_confusion_matrices(
                c.confusion_matrices, LABELS, methods=["svm"]
            ),
            r"methods \['svm'\] have no confusion matrix",
        ),
    ],
)
def test_plots_reject_bad_input(comparison, call, message):
    with pytest.raises(ValueError, match=message):
        call(comparison)


def _predictions(comparison):
    """Out-of-fold predictions of two methods on 12 utterances."""
    y_true = np.array(["anger", "sadness", "neutral"] * 4)
    rows = []
    for method, shift in (("lexical", 0), ("late_fusion", 1)):
        y_pred = y_true.copy()
        y_pred[: 3 * shift] = "neutral"
        rows += [
            {"method": method, "fold": 1 + k % 2, "row": k, "y_true": t, "y_pred": p}
            for k, (t, p) in enumerate(zip(y_true, y_pred))
        ]
    return pd.DataFrame(rows)


DISPLAYS = {
    "method_comparison": lambda c, ax: MethodComparisonDisplay.from_comparison(
        c, ax=ax
    ),
    "modality_contribution": lambda c, ax: ModalityContributionDisplay.from_comparison(
        c, ["visual", "lexical"], fusion=["early_fusion"], ax=ax
    ),
    "confusion_from_comparison": lambda c, ax: ConfusionMatricesDisplay.from_comparison(
        c, methods=["lexical"], ax=ax
    ),
    "per_speaker": lambda c, ax: PerSpeakerDisplay.from_predictions(
        _predictions(c), ["s1", "s2", "s3"] * 4, ax=ax
    ),
    "per_class_recall": lambda c, ax: PerClassRecallDisplay.from_predictions(
        _predictions(c), ax=ax
    ),
    "confusion_from_predictions": lambda c, ax: (
        ConfusionMatricesDisplay.from_predictions(
            _predictions(c), methods=["lexical"], ax=ax
        )
    ),
}


def _axes_of(display):
    return np.ravel(np.asarray(display.ax_, dtype=object)).tolist()


@pytest.mark.parametrize("kind", sorted(DISPLAYS))
def test_display_draws_on_the_given_axes(comparison, kind):
    figure, (left, right) = plt.subplots(1, 2)
    try:
        display = DISPLAYS[kind](comparison, right)
        assert display.figure_ is figure
        assert _axes_of(display) == [right]
        assert right.has_data() and not left.has_data()
    finally:
        plt.close(figure)


@pytest.mark.parametrize("kind", sorted(DISPLAYS))
def test_display_makes_its_own_figure_without_axes(comparison, kind):
    open_figures = plt.get_fignums()
    display = DISPLAYS[kind](comparison, None)
    assert all(ax.figure is display.figure_ for ax in _axes_of(display))
    assert all(ax.has_data() for ax in _axes_of(display))
    # a plain Figure: no pyplot figure is opened (nothing to close, no window)
    assert plt.get_fignums() == open_figures


def test_display_plot_redraws_and_returns_itself(comparison):
    display = MethodComparisonDisplay.from_comparison(comparison.results)
    other = plt.figure()
    try:
        ax = other.add_subplot()
        assert display.plot(ax=ax, interval="std") is display
        assert display.ax_ is ax and display.figure_ is other
        assert "0.650 ± 0.016" in {t.get_text() for t in ax.texts}
    finally:
        plt.close(other)


def test_method_comparison_display_takes_the_comparison_or_its_results(comparison):
    from_bunch = MethodComparisonDisplay.from_comparison(comparison)
    from_table = MethodComparisonDisplay.from_comparison(comparison.results)
    pd.testing.assert_frame_equal(from_bunch.summary, from_table.summary)
    assert len(from_bunch.bars_) == len(MEANS)


def test_confusion_display_from_predictions_counts_each_method():
    predictions = _predictions(None)
    display = ConfusionMatricesDisplay.from_predictions(
        predictions, labels=["anger", "neutral", "sadness"]
    )
    assert [ax.get_title() for ax in display.ax_] == ["lexical", "late_fusion"]
    np.testing.assert_allclose(display.rates_["lexical"], np.eye(3))
    # late fusion predicted the first anger, sadness and neutral as neutral
    np.testing.assert_allclose(display.rates_["late_fusion"][:, 1], [0.25, 1.0, 0.25])


def test_confusion_display_needs_an_axes_per_method(comparison):
    figure = plt.figure()
    try:
        with pytest.raises(ValueError, match="ax holds 1 axes for 2 methods"):
            ConfusionMatricesDisplay.from_comparison(
                comparison, methods=["lexical", "visual"], ax=figure.add_subplot()
            )
    finally:
        plt.close(figure)


@pytest.mark.parametrize(
    "wrapper, display",
    [
        (
            lambda c: plot_method_comparison(c.results, metric="f1_macro"),
            lambda c: MethodComparisonDisplay.from_comparison(c, metric="f1_macro"),
        ),
        (
            lambda c: plot_modality_contribution(c.results, ["visual", "acoustic"]),
            lambda c: ModalityContributionDisplay.from_comparison(
                c, ["visual", "acoustic"]
            ),
        ),
        (
            lambda c: plot_confusion_matrices(c.confusion_matrices, LABELS),
            lambda c: ConfusionMatricesDisplay.from_comparison(c),
        ),
    ],
)
def test_plot_functions_return_the_displays_figure(comparison, wrapper, display):
    figure, drawn = wrapper(comparison), display(comparison).figure_
    assert figure.get_size_inches().tolist() == drawn.get_size_inches().tolist()
    assert [ax.get_title() for ax in figure.axes] == [
        ax.get_title() for ax in drawn.axes
    ]
    assert [len(ax.patches) for ax in figure.axes] == [
        len(ax.patches) for ax in drawn.axes
    ]


def test_heatmap_displays_hold_the_scores_they_draw(comparison):
    predictions = _predictions(comparison)
    recall = PerClassRecallDisplay.from_predictions(
        predictions, labels=["anger", "sadness", "neutral"]
    )
    np.testing.assert_allclose(recall.scores.loc["late_fusion"], [0.75, 0.75, 1.0])
    np.testing.assert_allclose(recall.im_.get_array(), recall.scores.to_numpy())
    speakers = PerSpeakerDisplay.from_predictions(
        predictions, ["s1", "s2", "s3"] * 4, metric="unweighted_accuracy"
    )
    assert [t.get_text() for t in speakers.ax_.get_xticklabels()] == ["s1", "s2", "s3"]
    assert speakers.ax_.get_title() == "unweighted accuracy on each held-out speaker"
