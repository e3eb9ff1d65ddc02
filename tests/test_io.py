"""Model files: round trips, manifests, and the files that must be refused."""

import hashlib
import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from test_common import public_estimator_classes

import sklearn_mmer
from sklearn_mmer._testing import make_tiny_corpus
from sklearn_mmer.evaluation import (
    make_methods,
    registered_methods,
    set_epochs,
    set_every,
)
from sklearn_mmer.fusion import make_late_fusion
from sklearn_mmer.io import FORMAT_VERSION, ModelFileError, read_manifest
from sklearn_mmer.neural import (
    AttentionFusionClassifier,
    MLPClassifier,
    MLPEnsembleClassifier,
    SequenceClassifier,
)
from sklearn_mmer.preprocessing import (
    SequencePadder,
    SpeakerNormalizer,
    TemporalPooling,
)

MODALITIES = ["visual", "acoustic", "lexical"]


@pytest.fixture(scope="module")
def corpus():
    X, y, _ = make_tiny_corpus(
        n_utterances=60,
        n_speakers=4,
        widths=(("visual", 5), ("acoustic", 4), ("lexical", 3)),
    )
    return X, y


def _small(estimator):
    set_epochs(estimator, 2)
    set_every(estimator, "hidden_dim", 8)
    return estimator


def _same_predictions(a, b, X):
    assert np.array_equal(a.predict(X), b.predict(X))
    if hasattr(a, "predict_proba"):
        assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


def _method_factories():
    """Every method's factory, taken when the tests are collected.

    Taken here, not looked up at run time, so that a test elsewhere that
    changes the registry cannot change what these tests build.
    """
    factories = {
        name: (lambda m=name: make_methods(MODALITIES, [m], random_state=0)[m])
        for name in MODALITIES
    }
    for name, method in registered_methods().items():
        factories[name] = lambda f=method.factory: f(MODALITIES, 0)
    return factories


METHOD_FACTORIES = _method_factories()


@pytest.mark.parametrize("name", list(METHOD_FACTORIES))
def test_registry_method_round_trip_is_bit_for_bit(corpus, tmp_path, name):
    X, y = corpus
    model = _small(METHOD_FACTORIES[name]()).fit(X, y)
    path = tmp_path / "model.mmer"
    sklearn_mmer.save(model, path, X=X, y=y, method=name)
    loaded = sklearn_mmer.load(path)
    assert type(loaded) is type(model)
    _same_predictions(model, loaded, X.iloc[::-1])
    assert read_manifest(path)["method"] == name


def _fitted_public(name, X, y):
    """A fitted instance of each public estimator, and the input it takes."""
    cells = X[["visual", "acoustic", "lexical"]]
    arrays = TemporalPooling().fit_transform(X["visual"])
    builders = {
        "TemporalPooling": lambda: TemporalPooling("stats").fit(X["visual"]),
        "SequencePadder": lambda: SequencePadder(4).fit(X["acoustic"]),
        "SpeakerNormalizer": lambda: SpeakerNormalizer(min_utterances=2).fit(X),
        "MLPClassifier": lambda: MLPClassifier((8,), max_iter=2).fit(arrays, y),
        "MLPEnsembleClassifier": lambda: MLPEnsembleClassifier(
            (8,), n_members=3, bootstrap=True, max_iter=2, early_stopping=True
        ).fit(arrays, y),
        "SequenceClassifier": lambda: SequenceClassifier(
            MODALITIES, hidden_dim=8, max_iter=2, early_stopping=True
        ).fit(X, y),
        "AttentionFusionClassifier": lambda: AttentionFusionClassifier(
            hidden_dim=8, max_iter=2
        ).fit(cells, y),
        "LateFusionClassifier": lambda: _small(
            make_late_fusion(["acoustic", "lexical"], voting="soft")
        ).fit(X, y),
        "StackingFusionClassifier": lambda: _small(METHOD_FACTORIES["stacking"]()).fit(
            X, y
        ),
    }
    inputs = {
        "TemporalPooling": X["visual"],
        "SequencePadder": X["acoustic"],
        "MLPClassifier": arrays,
        "MLPEnsembleClassifier": arrays,
        "AttentionFusionClassifier": cells,
    }
    return builders[name](), inputs.get(name, X)


# BaseExtractor is the template the extractors subclass (nothing to extract);
# the encoders need a model folder: tests/test_extraction_encoders.py saves,
# loads and compares them on the tiny models it builds.
ROUND_TRIPPED_ELSEWHERE = {
    "BaseExtractor",
    "SpeechEncoderExtractor",
    "TextEncoderExtractor",
}


@pytest.mark.parametrize(
    "name", sorted(set(public_estimator_classes()) - ROUND_TRIPPED_ELSEWHERE)
)
def test_public_estimator_round_trip(corpus, tmp_path, name):
    X, y = corpus
    if name.endswith("Extractor"):
        model, data = _fitted_extractor(name, tmp_path)
    else:
        model, data = _fitted_public(name, X, y)
    sklearn_mmer.save(model, tmp_path / "m.mmer")
    loaded = sklearn_mmer.load(tmp_path / "m.mmer")
    if hasattr(model, "predict"):
        _same_predictions(model, loaded, data)
    else:
        _same_output(model.transform(data), loaded.transform(data))
    if hasattr(model, "history_"):
        assert loaded.history_[:, "train_loss"] == model.history_[:, "train_loss"]
        assert loaded.best_epoch_ == model.best_epoch_
    if hasattr(model, "best_epochs_"):
        assert np.array_equal(loaded.best_epochs_, model.best_epochs_)
        assert np.array_equal(loaded.loss_curve_, model.loss_curve_)


def _fitted_extractor(name, folder):
    """A fitted extractor and a column of two recordings it reads."""
    soundfile = pytest.importorskip("soundfile")
    from sklearn_mmer import extraction

    t = np.arange(8000) / 16000
    for k, frequency in enumerate((220.0, 440.0)):
        tone = (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
        soundfile.write(folder / f"{k}.wav", tone, 16000)
    files = pd.Series([str(folder / "0.wav"), str(folder / "1.wav")], name="file")
    extractor = getattr(extraction, name)()
    if name == "MFCCExtractor":
        extractor.set_params(n_mfcc=7)
    return extractor.fit(files), files


def _same_output(a, b):
    """Equal transform outputs, cell by cell for DataFrames of arrays."""
    if isinstance(a, pd.DataFrame):
        assert list(a.columns) == list(b.columns)
        for column in a.columns:
            for left, right in zip(a[column], b[column]):
                assert np.array_equal(np.asarray(left), np.asarray(right))
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


# --- files that must be refused ---------------------------------------------


@pytest.fixture(scope="module")
def saved(corpus, tmp_path_factory):
    """A small fitted early fusion, saved; returns (model, X, path)."""
    X, y = corpus
    model = _small(METHOD_FACTORIES["early_fusion"]()).fit(X, y)
    path = tmp_path_factory.mktemp("model") / "early.mmer"
    sklearn_mmer.save(model, path, X=X, y=y, method="early_fusion")
    return model, X, path


def _rewrite(source, target, change, *, forge=True):
    """Copy a model file with ``change(members)`` applied to its members.

    With ``forge``, the manifest's checksums are recomputed, as an attacker
    would: only the content of the members can then refuse the file.
    """
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    change(members, manifest)
    if forge:
        manifest["members"] = {
            name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in members.items()
        }
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_load_refuses_a_truncated_file(saved, tmp_path):
    data = saved[2].read_bytes()
    path = tmp_path / "cut.mmer"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        sklearn_mmer.load(path)


def test_load_refuses_a_tampered_member(saved, tmp_path):
    def flip(members, manifest):
        weights = bytearray(members["nets/net_0.safetensors"])
        weights[-1] ^= 1
        members["nets/net_0.safetensors"] = bytes(weights)

    path = _rewrite(saved[2], tmp_path / "t.mmer", flip, forge=False)
    with pytest.raises(ModelFileError, match="net_0.safetensors.*checksum"):
        sklearn_mmer.load(path)


@pytest.mark.parametrize(
    "version, advice", [(FORMAT_VERSION + 1, "upgrade"), (0, "refit")]
)
def test_load_refuses_another_format_version(saved, tmp_path, version, advice):
    def bump(members, manifest):
        manifest["format_version"] = version

    path = _rewrite(saved[2], tmp_path / "v.mmer", bump)
    with pytest.raises(ModelFileError, match=f"format {version}.*{advice}"):
        sklearn_mmer.load(path)


class _CreatesFile:
    """Unpickling this opens (so creates) a file: a stand-in for any payload."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _torch_zip(obj):
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "member, encode",
    [
        ("skeleton.skops", lambda evil: pickle.dumps(evil, protocol=5)),
        ("skeleton.skops", lambda evil: pickle.dumps(evil, protocol=0)),
        ("nets/net_0.safetensors", _torch_zip),
        ("params.json", lambda evil: pickle.dumps(evil, protocol=2)),
    ],
)
def test_load_refuses_a_pickle_and_runs_none(saved, tmp_path, member, encode):
    control, target = tmp_path / "control.txt", tmp_path / "pwned.txt"
    payload = encode(_CreatesFile(control))
    if member != "nets/net_0.safetensors":
        pickle.loads(payload)  # the payload is live: unpickled, it makes a file
        assert control.exists()
    payload = encode(_CreatesFile(target))

    def plant(members, manifest):
        members[member] = payload

    path = _rewrite(saved[2], tmp_path / "evil.mmer", plant)
    with pytest.raises(ModelFileError, match="pickle"):
        sklearn_mmer.load(path)
    assert not target.exists()


def test_load_refuses_an_extra_pickle_member(saved, tmp_path):
    def plant(members, manifest):
        members["model.pkl"] = pickle.dumps({"a": 1})

    path = _rewrite(saved[2], tmp_path / "extra.mmer", plant)
    with pytest.raises(ModelFileError, match="model.pkl.*pickle"):
        sklearn_mmer.load(path)


class _Foreign:
    """A class from outside the trusted packages."""


def _foreign_function(X):
    return X


def test_load_refuses_an_untrusted_type(saved, tmp_path):
    import skops.io

    def plant(members, manifest):
        members["skeleton.skops"] = skops.io.dumps(_Foreign())

    path = _rewrite(saved[2], tmp_path / "foreign.mmer", plant)
    with pytest.raises(ModelFileError, match=r"type 'test_io\._Foreign'.*refused"):
        sklearn_mmer.load(path)


def test_save_refuses_a_foreign_object(corpus, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    arrays = TemporalPooling().fit_transform(corpus[0]["lexical"])
    model = make_pipeline(
        FunctionTransformer(_foreign_function), LogisticRegression()
    ).fit(arrays, corpus[1])
    with pytest.raises(ModelFileError, match="test_io._foreign_function"):
        sklearn_mmer.save(model, tmp_path / "f.mmer")


def test_save_refuses_an_unfitted_model(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        sklearn_mmer.save(MLPClassifier(), tmp_path / "u.mmer")


# --- manifest and devices ----------------------------------------------------


def test_manifest_describes_model_and_data(saved, corpus):
    model, X, path = saved
    manifest = read_manifest(path)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["method"] == "early_fusion"
    assert manifest["classes"] == list(model.classes_)
    assert manifest["modalities"] == {"visual": 5, "acoustic": 4, "lexical": 3}
    assert manifest["n_samples"] == len(X)
    assert {"sklearn-mmer", "scikit-learn", "torch"} <= set(manifest["versions"])
    assert set(manifest["members"]) >= {"skeleton.skops", "nets/net_0.safetensors"}


def test_fingerprint_changes_with_one_value(corpus):
    from sklearn_mmer.utils._data import fingerprint_data

    X, y = corpus
    changed = X.copy()
    changed.at[changed.index[3], "lexical"] = X["lexical"].iloc[3] + 1e-6
    assert fingerprint_data(X, y) == fingerprint_data(X.copy(), y.copy())
    assert fingerprint_data(changed, y) != fingerprint_data(X, y)
    assert fingerprint_data(X, y[::-1]) != fingerprint_data(X, y)


def _former_fingerprint(X, y):
    """The data fingerprint a model file recorded up to 0.1.0.dev0."""
    digest = hashlib.sha256()

    def update(value):
        if isinstance(value, np.ndarray) and value.dtype != object:
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, np.ndarray):
            for item in value.ravel():
                update(item)
        else:
            digest.update(f"<{type(value).__name__}:{value!r}>".encode())

    digest.update(repr(list(map(str, X.columns))).encode())
    for column in X.columns:
        for value in X[column]:
            update(value)
    update(np.asarray(y).astype(str))
    return digest.hexdigest()


def test_a_model_file_written_by_the_former_code_loads(saved, corpus, tmp_path):
    # up to 0.1.0.dev0 a model file recorded the fingerprint of its own digest
    # and the versions read from each module: both are only recorded, never
    # compared, so such a file loads and reports them as they are
    model, X, _ = saved
    former = {
        "fingerprint": _former_fingerprint(*corpus),
        "versions": {
            "sklearn-mmer": sklearn_mmer.__version__,
            "scikit-learn": "1.6.1",
            "torch": "2.5.1+cpu",
            "skops": "0.11.0",
            "numpy": "2.1.3",
            "python": "3.10.16",
        },
    }

    def as_before(members, manifest):
        manifest.update(former)

    path = _rewrite(saved[2], tmp_path / "former.mmer", as_before, forge=False)
    _same_predictions(model, sklearn_mmer.load(path), X)
    manifest = read_manifest(path)
    assert manifest["fingerprint"] == former["fingerprint"]
    assert manifest["versions"] == former["versions"]


@pytest.mark.parametrize("network", [MLPClassifier, MLPEnsembleClassifier])
def test_cuda_model_loads_on_cpu_without_cuda(corpus, tmp_path, monkeypatch, network):
    X, y = corpus
    arrays = TemporalPooling().fit_transform(X["lexical"])
    model = network((8,), max_iter=2, random_state=0).fit(arrays, y)
    model.device = "cuda"  # as a model trained on a GPU would say
    sklearn_mmer.save(model, tmp_path / "gpu.mmer")
    model.device = "cpu"
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert read_manifest(tmp_path / "gpu.mmer")["networks"]["net_0"]["device"] == "cuda"
    with pytest.warns(UserWarning, match="device='cuda'.*loaded on 'cpu'"):
        loaded = sklearn_mmer.load(tmp_path / "gpu.mmer")
    assert loaded.device == "cpu"
    if network is MLPClassifier:
        assert str(loaded.net_.device) == "cpu"
    assert {p.device.type for p in loaded.net_.module_.parameters()} == {"cpu"}
    _same_predictions(model, loaded, arrays)
    with pytest.raises(ValueError, match="device='cuda' is not available"):
        sklearn_mmer.load(tmp_path / "gpu.mmer", device="cuda")


def test_search_round_trip_and_loaded_model_refits_and_pickles(corpus, tmp_path):
    from sklearn.model_selection import GridSearchCV

    X, y = corpus
    arrays = TemporalPooling().fit_transform(X["lexical"])
    search = GridSearchCV(
        MLPClassifier((8,), max_iter=2, random_state=0),
        {"hidden_layer_sizes": [(4,), (8,)]},
        cv=2,
    ).fit(arrays, y)
    sklearn_mmer.save(search, tmp_path / "search.mmer")
    loaded = sklearn_mmer.load(tmp_path / "search.mmer")
    _same_predictions(search, loaded, arrays)
    assert loaded.best_params_ == search.best_params_
    again = pickle.loads(pickle.dumps(loaded.best_estimator_))
    _same_predictions(search, again, arrays)
    refit = loaded.best_estimator_.fit(arrays, y)
    _same_predictions(search.best_estimator_, refit, arrays)


@pytest.mark.parametrize("kind", [MLPClassifier, MLPEnsembleClassifier])
def test_a_loaded_network_has_no_optimizer_until_partial_fit_trains_it(
    corpus, tmp_path, kind
):
    """Prediction needs no optimiser (building one imports torch's compiler);
    a partial_fit after the load trains on from the saved weights."""
    X, y = corpus
    arrays = TemporalPooling().fit_transform(X["lexical"])
    model = kind(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(arrays, y)
    sklearn_mmer.save(model, tmp_path / "m.mmer")
    loaded = sklearn_mmer.load(tmp_path / "m.mmer")
    assert getattr(loaded.net_, "optimizer_", None) is None
    _same_predictions(model, loaded, arrays)
    before = loaded.predict_proba(arrays)
    loaded.partial_fit(arrays, y)
    assert isinstance(loaded.net_.optimizer_, torch.optim.Adam)
    assert not np.allclose(loaded.predict_proba(arrays), before)
