"""The private helpers of sklearn_mmer.utils: one behaviour per test."""

import ast
import pathlib

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import BaseCrossValidator
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_mmer
from sklearn_mmer.utils._data import (
    METADATA_COLUMNS,
    SESSION,
    SPEAKER,
    cell_columns,
    check_groups,
    check_modalities,
    fingerprint_data,
    is_cell_column,
    is_missing,
    member_columns,
    member_reads,
    num_samples,
    parse_session,
    parse_sessions,
)
from sklearn_mmer.utils._runtime import first_line, versions
from sklearn_mmer.utils._sklearn_compat import (
    GroupsConsumerMixin,
    HeterogeneousEnsemble,
    check_feature_names_in,
)

PACKAGE = pathlib.Path(sklearn_mmer.__file__).parent
DOOR = PACKAGE / "utils" / "_sklearn_compat.py"


def _imports(path):
    """``(module, name)`` of every import in a source file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                yield module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def _is_private(dotted):
    return any(part.startswith("_") for part in dotted.split(".") if part)


def test_only_the_door_imports_private_scikit_learn_names():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == DOOR:
            continue
        for module, name in _imports(path):
            if module.split(".")[0] != "sklearn":
                continue
            if _is_private(module) or (name is not None and name.startswith("_")):
                found.append(f"{path.relative_to(PACKAGE)}: {module} {name}")
    assert found == []


def test_the_door_does_import_private_names():
    # the scan above reads the same syntax: it would see these if elsewhere
    private = [m for m, n in _imports(DOOR) if _is_private(m) or _is_private(n or "")]
    assert "sklearn.utils._param_validation" in private


def _absolute(path, module):
    """The parts below sklearn_mmer of ``module`` imported in ``path``."""
    level = len(module) - len(module.lstrip("."))
    if not level:
        parts = module.split(".")
        return parts[1:] if parts[0] == "sklearn_mmer" else None
    here = list(path.relative_to(PACKAGE).parent.parts)
    base = here[: len(here) - level + 1]
    return base + [part for part in module[level:].split(".") if part]


def test_no_package_imports_another_packages_private_module():
    # relative imports resolved, so that a private sub-package
    # (evaluation/_reporting) may import its own package's private modules
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        package = path.relative_to(PACKAGE).parts[0]
        if package == path.name:  # a module of sklearn_mmer itself
            continue
        for module, _ in _imports(path):
            parts = _absolute(path, module)
            if not parts or parts[0] in (package, "utils"):
                continue
            if _is_private(".".join(parts)):
                found.append(f"{path.relative_to(PACKAGE)}: {module}")
    assert found == []


def test_private_module_check_resolves_sub_packages():
    reporting = PACKAGE / "evaluation" / "_reporting" / "plots.py"
    assert _absolute(reporting, ".._schema") == ["evaluation", "_schema"]
    assert _absolute(reporting, "...neural._base") == ["neural", "_base"]
    assert _absolute(PACKAGE / "fusion" / "_late.py", "..utils._x") == ["utils", "_x"]


def test_utils_imports_nothing_else_of_the_package():
    for path in sorted((PACKAGE / "utils").glob("*.py")):
        for module, _ in _imports(path):
            assert not module.startswith(".."), (path.name, module)
            assert module.split(".")[0] != "sklearn_mmer", (path.name, module)


def test_metadata_columns_are_the_contract_names():
    assert (SPEAKER, SESSION) == ("speaker", "session")
    assert set(METADATA_COLUMNS) == {"speaker", "session", "content"}


@pytest.mark.parametrize("cell", [None, np.nan, np.empty((0, 3)), np.array([])])
def test_is_missing_reads_none_nan_and_empty_arrays_as_missing(cell):
    assert is_missing(cell)


def test_is_missing_keeps_a_zero_vector():
    assert not is_missing(np.zeros(3))


def test_cell_column_needs_every_present_cell_to_be_an_array():
    assert is_cell_column(np.array([np.ones(2), None], dtype=object))
    assert not is_cell_column(np.array([np.ones(2), "text"], dtype=object))
    assert not is_cell_column(np.array([None, None], dtype=object))
    assert not is_cell_column(np.array([1.0, 2.0]))


def test_cell_columns_leaves_out_metadata_and_keeps_order():
    X = pd.DataFrame(
        {
            "lexical": [np.ones(2), np.ones(2)],
            SPEAKER: [np.ones(1), np.ones(1)],
            "label": ["a", "b"],
            "visual": [None, np.ones((3, 2))],
        }
    )
    assert cell_columns(X) == ["lexical", "visual"]
    assert cell_columns(X, exclude=()) == ["lexical", SPEAKER, "visual"]


def test_check_modalities_turns_a_string_into_a_list():
    assert check_modalities("acoustic") == ["acoustic"]


def test_check_modalities_names_the_parameter_when_empty():
    with pytest.raises(ValueError, match="modality must name at least one column"):
        check_modalities([], parameter="modality")


def test_check_modalities_rejects_repeats():
    with pytest.raises(ValueError, match=r"must be distinct; got \['a', 'a'\]"):
        check_modalities(["a", "a"])


def test_check_groups_names_the_shape():
    with pytest.raises(ValueError, match=r"got shape \(2,\) for 3 samples"):
        check_groups(["s1", "s2"], 3)


@pytest.mark.parametrize(
    "X", [np.zeros((4, 2)), pd.DataFrame({"a": range(4)}), [[0], [1], [2], [3]]]
)
def test_num_samples_counts_rows(X):
    assert num_samples(X) == 4


class _ArrayOnly:
    """Neither a length nor a shape: only ``__array__``."""

    def __array__(self, dtype=None, copy=None):
        return np.zeros((5, 2))


def test_num_samples_reads_an_object_through_its_array():
    assert num_samples(_ArrayOnly()) == 5


def test_num_samples_rejects_a_scalar():
    with pytest.raises(TypeError, match="Expected sequence or array-like"):
        num_samples(3)


def test_parse_session_reads_the_number_after_ses():
    assert parse_session("Ses03M_impro01_F000") == 3
    assert parse_session("speaker7") is None


def test_parse_sessions_takes_the_first_candidate_that_parses_in_full():
    sessions = parse_sessions(["u1", "Ses02F_x"], ["Ses01F", "Ses02M"])
    np.testing.assert_array_equal(sessions, [1, 2])
    assert parse_sessions(["u1"], []) is None


def _pooling_member(columns, remainder="drop"):
    transformer = ColumnTransformer(
        [("lexical", StandardScaler(), columns)], remainder=remainder
    )
    return make_pipeline(transformer, LogisticRegression())


def test_member_columns_are_read_from_the_column_transformer():
    assert member_columns(_pooling_member(["lexical", "acoustic"])) == [
        "lexical",
        "acoustic",
    ]
    assert member_columns(_pooling_member("lexical")) == ["lexical"]


def test_member_columns_are_unknown_with_a_remainder_or_a_callable():
    assert member_columns(_pooling_member(["lexical"], "passthrough")) is None
    assert member_columns(_pooling_member(lambda X: ["lexical"])) is None
    assert member_columns(LogisticRegression()) is None


def test_member_reads_tells_the_position_of_the_column_transformer():
    member = make_pipeline(StandardScaler(), _pooling_member(["a"]).steps[0][1])
    step, branches = member_reads(member)
    assert step == 1
    assert [columns for _, columns in branches] == [["a"]]


class _Vote(HeterogeneousEnsemble):
    def __init__(self, estimators, *, flag=False):
        self.estimators = estimators
        self.flag = flag


def test_ensemble_params_reach_members_by_name():
    vote = _Vote([("lr", LogisticRegression()), ("nb", GaussianNB())])
    assert vote.get_params()["lr__C"] == 1.0
    vote.set_params(lr__C=0.5, nb="drop", flag=True)
    assert vote.named_estimators.lr.C == 0.5
    assert vote.named_estimators.nb == "drop"
    assert vote.flag is True


def test_ensemble_rejects_member_names_that_clash():
    vote = _Vote([("flag", LogisticRegression())])
    with pytest.raises(ValueError, match="conflict with constructor arguments"):
        vote._validate_estimators()


def test_groups_consumer_requests_groups_for_split():
    class Splitter(GroupsConsumerMixin, BaseCrossValidator):
        def _iter_test_masks(self, X=None, y=None, groups=None):
            yield np.ones(1, dtype=bool)

        def get_n_splits(self, X=None, y=None, groups=None):
            return 1

    requests = Splitter()._get_metadata_request()
    assert requests.split.requests == {"groups": True}


class _Fitted:
    n_features_in_ = 2


def test_feature_names_in_are_generated_or_checked():
    np.testing.assert_array_equal(check_feature_names_in(_Fitted()), ["x0", "x1"])
    with pytest.raises(ValueError, match="equal to number of features \\(2\\)"):
        check_feature_names_in(_Fitted(), ["a"])


# --- the data's fingerprint, versions and first lines ------------------------


def _pinned_data():
    X = pd.DataFrame(
        {
            "acoustic": [
                np.arange(6, dtype=np.float32).reshape(3, 2),
                None,
                np.array([0.5, -1.0]),
            ],
            "lexical": [np.ones((1, 3)), np.zeros((2, 3)), np.array([])],
            "speaker": ["s1", "s2", "s1"],
        }
    )
    return X, np.array(["ang", "hap", "neu"]), np.array(["s1", "s2", "s1"])


# the digests the comparison's manifest.json recorded before the helpers moved to
# utils: a run folder written then resumes only while they stay the same
RECORDED = {
    "speakers": "94649b694f36e497b84e4448f54764e9c476ea3e5f20371e5f6c09f4ae7ef0a4",
    "int labels": "77096e038af687447a4222bff7a753fe0a6b376fe6b1466f850ab67a90ac045e",
}


@pytest.mark.parametrize("case", list(RECORDED))
def test_fingerprint_is_the_digest_run_folders_recorded(case):
    X, y, groups = _pinned_data()
    if case == "int labels":
        y, groups = np.array([0, 1, 2]), None
    assert fingerprint_data(X, y, groups) == RECORDED[case]


def test_fingerprint_reads_every_value_of_a_series_of_cells():
    cells = pd.Series([np.arange(5000.0), np.arange(3000.0)], dtype=object)
    changed = cells.copy()
    changed.iloc[0] = cells.iloc[0].copy()
    changed.iloc[0][2500] += 1e-9
    assert fingerprint_data(cells) == fingerprint_data(cells.copy())
    assert fingerprint_data(changed) != fingerprint_data(cells)


def test_versions_are_the_running_code_and_the_installed_libraries():
    found = versions(["sklearn-mmer", "numpy", "no-such-distribution-mmer"])
    assert list(found) == [
        "sklearn-mmer",
        "numpy",
        "no-such-distribution-mmer",
        "python",
    ]
    assert found["sklearn-mmer"] == sklearn_mmer.__version__
    assert found["numpy"] == np.__version__
    assert found["no-such-distribution-mmer"] is None


@pytest.mark.parametrize(
    "error, line",
    [
        (ValueError("bad value\nmore detail"), "bad value"),
        (ValueError("  \n"), "ValueError"),
        (KeyError(), "KeyError"),
    ],
)
def test_first_line_of_an_error(error, line):
    assert first_line(error) == line


def test_fit_threads_limits_blas_with_one_view_of_the_pools_until_an_import(
    monkeypatch,
):
    import sys
    import types

    import threadpoolctl
    import torch

    from sklearn_mmer.utils import _runtime

    original = threadpoolctl.ThreadpoolController
    made = []

    class Counting(original):
        def __init__(self):
            made.append(self)
            super().__init__()

    def threads():
        blas = [i for i in original().info() if i["user_api"] == "blas"]
        assert blas  # NumPy's BLAS at least
        return {torch.get_num_threads(), *(i["num_threads"] for i in blas)}

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counting)
    monkeypatch.setattr(_runtime, "_CONTROLLER", {})
    seen = []
    for n_threads in [1, 2, 1]:
        with _runtime.fit_threads(n_threads):
            seen.append(threads())
    assert seen == [{1}, {2}, {1}]  # torch and every BLAS pool
    assert len(made) == 1
    # a new module may have loaded a library with a pool of its own
    monkeypatch.setitem(sys.modules, "a_new_module", types.ModuleType("a_new_module"))
    with _runtime.fit_threads(1):
        assert threads() == {1}
    assert len(made) == 2
