"""Model files that cannot run code or exhaust memory (issue 22, sections 1-2).

Each gadget here is a file an attacker could write: a valid container whose
manifest and checksums are recomputed (they prove integrity, not origin),
around a skops payload crafted to run code. Each test first shows the payload
is live (loaded by skops trusting whatever it names, it creates a marker
file), then that sklearn-mmer refuses the file with a ModelFileError and that
no marker appears.
"""

import contextlib
import functools
import hashlib
import importlib
import io
import json
import operator
import os
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
import scipy.stats
import skops
import skops.io
from numpy.testing._private.utils import runstring
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from test_common import public_estimator_classes
from test_io import (
    METHOD_FACTORIES,
    ROUND_TRIPPED_ELSEWHERE,
    _fitted_extractor,
    _fitted_public,
    _small,
)

import sklearn_mmer
from sklearn_mmer._testing import make_tiny_corpus, run
from sklearn_mmer.datasets import make_multimodal_emotion, write_feature_table
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.io import TRUSTED_TYPES, ModelFileError, read_manifest

MODALITIES = ["visual", "acoustic", "lexical"]
WIDTHS = {"visual": 5, "acoustic": 4, "lexical": 3}


@pytest.fixture(scope="module")
def corpus():
    X, y, _ = make_tiny_corpus(n_utterances=60, n_speakers=4, widths=WIDTHS.items())
    return X, y


@pytest.fixture(scope="module")
def plain(corpus, tmp_path_factory):
    """A fitted early fusion without networks, saved: (model, path)."""
    X, y = corpus
    model = make_early_fusion(MODALITIES, classifier=LogisticRegression()).fit(X, y)
    path = tmp_path_factory.mktemp("plain") / "plain.mmer"
    sklearn_mmer.save(model, path, X=X, y=y, method="early_fusion")
    return model, path


@pytest.fixture(scope="module")
def corpus_on_disk(tmp_path_factory):
    X, y = make_multimodal_emotion(
        24,
        n_speakers=4,
        n_sessions=2,
        random_state=0,
        return_X_y=True,
        modalities=WIDTHS,
    )
    return write_feature_table(X, y, tmp_path_factory.mktemp("corpus") / "corpus")


# --- writing files as an attacker would ----------------------------------------


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _forge(source, target, change=None, *, members=None, manifest=None):
    """Write a model file from ``source``'s members, checksums recomputed.

    ``change(members, manifest)`` edits them first; ``manifest`` given as bytes
    is written as is.
    """
    members = dict(members if members is not None else _members(source))
    listed = json.loads(members.pop("manifest.json"))
    if change is not None:
        change(members, listed)
    listed["members"] = {
        name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in members.items()
    }
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("manifest.json", manifest or json.dumps(listed))
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _with_payload(source, target, payload):
    def plant(members, manifest):
        members["skeleton.skops"] = payload

    return _forge(source, target, plant)


def _nodes(tree):
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def _edit_payload(payload, change):
    """``payload`` with ``change(files)`` applied to its members (name -> bytes)."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    change(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _edit_schema(payload, change):
    def edit(files):
        schema = json.loads(files["schema.json"])
        change(schema)
        files["schema.json"] = json.dumps(schema).encode()

    return _edit_payload(payload, edit)


def _creates(marker):
    return f"open({str(marker)!r}, 'w').close()"


def _scipy_setstate(model, marker, retype=None):
    """The model with a scipy.stats distribution whose ``__setstate__`` execs.

    scipy's ``rv_generic.__setstate__`` ``exec``s the instance's
    ``_parse_arg_template`` string, which the file holds: code runs at load.
    ``retype`` (module, class) names another distribution for the same state.
    """
    model = Pipeline(model.steps)
    model.calibration_ = scipy.stats.norm

    def plant(schema):
        node = next(n for n in _nodes(schema) if n.get("__class__") == "norm_gen")
        template = node["content"]["content"]["_parse_arg_template"]
        code = _creates(marker) + "\n" + json.loads(template["content"])
        template["content"] = json.dumps(code)
        if retype is not None:
            node["__module__"], node["__class__"] = retype

    return _edit_schema(skops.io.dumps(model), plant)


def _chain(code):
    """Steps turning any X into the string ``code`` (NumPy functions only)."""
    return [
        (
            "fill",
            FunctionTransformer(
                np.full_like, kw_args={"fill_value": code, "dtype": "U400"}
            ),
        ),
        ("first", FunctionTransformer(np.take, kw_args={"indices": 0})),
    ]


def _functions(model, marker, gadget):
    """A pipeline whose FunctionTransformer steps run code at predict time."""
    steps = {
        "numpy": _chain(_creates(marker))
        + [("run", FunctionTransformer(runstring, kw_args={"dict": {}}))],
        "exec": _chain(_creates(marker)) + [("run", FunctionTransformer(exec))],
        "eval": _chain(_creates(marker)) + [("run", FunctionTransformer(eval))],
        "os.system": _chain(f"touch {marker}")
        + [("run", FunctionTransformer(os.system))],
        "partial": _chain(_creates(marker))
        + [("run", FunctionTransformer(functools.partial(runstring, dict={})))],
        "methodcaller": [
            ("array", FunctionTransformer(np.asarray)),
            ("run", FunctionTransformer(operator.methodcaller("tofile", str(marker)))),
        ],
        "attrgetter": [
            ("array", FunctionTransformer(np.asarray)),
            ("get", FunctionTransformer(operator.attrgetter("tofile"))),
            (
                "run",
                FunctionTransformer(operator.methodcaller("__call__", str(marker))),
            ),
        ],
    }[gadget]
    return skops.io.dumps(Pipeline(steps + [("model", model)]))


GADGETS = {
    "scipy norm_gen.__setstate__": lambda m, marker: _scipy_setstate(m, marker),
    "scipy poisson_gen.__setstate__": lambda m, marker: _scipy_setstate(
        m, marker, ("scipy.stats._discrete_distns", "poisson_gen")
    ),
    **{
        f"FunctionTransformer {kind}": functools.partial(_functions, gadget=kind)
        for kind in [
            "numpy",
            "exec",
            "eval",
            "os.system",
            "partial",
            "methodcaller",
            "attrgetter",
        ]
    },
}


def _run_as_skops_would(payload, X):
    """Load ``payload`` with skops trusting all it names, then predict.

    What a loader that trusts by package (as sklearn-mmer's did) or by
    ``get_untrusted_types`` does: a live gadget creates its marker here.
    """
    with contextlib.suppress(Exception):
        model = skops.io.loads(
            payload, trusted=skops.io.get_untrusted_types(data=payload)
        )
        model.predict(X)


# --- section 1: loading runs no code ------------------------------------------


@pytest.mark.parametrize("gadget", list(GADGETS))
def test_load_refuses_a_gadget_and_runs_nothing(plain, corpus, tmp_path, gadget):
    model, legit = plain
    X = corpus[0]
    control, target = tmp_path / "control", tmp_path / "pwned"
    _run_as_skops_would(GADGETS[gadget](model, control), X)
    assert control.exists(), "the gadget is not live: it proves nothing"
    path = _with_payload(legit, tmp_path / "evil.mmer", GADGETS[gadget](model, target))
    with pytest.raises(ModelFileError, match="does not trust.*refused before") as error:
        sklearn_mmer.load(path)
    assert "trusted=[" in str(error.value)
    assert not target.exists()


@pytest.mark.parametrize(
    "gadget, named",
    [
        (
            "scipy norm_gen.__setstate__",
            r"'scipy\.stats\._continuous_distns\.norm_gen' "
            r"\(at Pipeline\.calibration_\)",
        ),
        (
            "FunctionTransformer numpy",
            r"FunctionTransformer' \(at Pipeline\.steps\[0\]\[1\]\)",
        ),
        ("FunctionTransformer exec", r"also untrusted: .*builtins\.exec"),
    ],
)
def test_refusal_names_the_type_and_where_it_is(plain, tmp_path, gadget, named):
    path = _with_payload(
        plain[1], tmp_path / "evil.mmer", GADGETS[gadget](plain[0], tmp_path / "x")
    )
    with pytest.raises(ModelFileError, match=named):
        sklearn_mmer.load(path)


@pytest.mark.parametrize(
    "gadget", ["scipy norm_gen.__setstate__", "FunctionTransformer numpy"]
)
def test_mmer_predict_refuses_a_gadget_in_one_line(
    plain, corpus_on_disk, tmp_path, gadget
):
    marker, out = tmp_path / "pwned", tmp_path / "out"
    path = _with_payload(
        plain[1], tmp_path / "evil.mmer", GADGETS[gadget](plain[0], marker)
    )
    status, _, err = run(
        "predict", "--model", path, "--data", corpus_on_disk, "--out", out
    )
    assert status == 2
    assert err.startswith("mmer: error: --model ") and err.count("\n") == 1, err
    assert "does not trust" in err and "--trusted" in err
    assert not marker.exists() and not (out / "predictions.csv").exists()


def test_a_trusted_function_needs_naming_at_save_and_load(corpus, tmp_path):
    X, y = corpus
    early = make_early_fusion(MODALITIES, classifier=LogisticRegression())
    model = Pipeline(
        [
            early.steps[0],
            ("finite", FunctionTransformer(np.nan_to_num)),
            early.steps[-1],
        ]
    ).fit(X, y)
    path = tmp_path / "abs.mmer"
    with pytest.raises(
        ModelFileError,
        match=r"cannot save this Pipeline.*FunctionTransformer.*"
        r"trusted=\[.*sklearn_mmer\.save",
    ):
        sklearn_mmer.save(model, path)
    assert not path.exists() and not list(tmp_path.iterdir())
    names = [
        "sklearn.preprocessing._function_transformer.FunctionTransformer",
        "numpy.nan_to_num",
    ]
    sklearn_mmer.save(model, path, trusted=names)
    with pytest.raises(ModelFileError, match="FunctionTransformer"):
        sklearn_mmer.load(path)
    with pytest.raises(ModelFileError, match=r"the function 'numpy\.nan_to_num'"):
        sklearn_mmer.load(path, trusted=names[:1])
    loaded = sklearn_mmer.load(path, trusted=names)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_mmer_predict_trusted_option(corpus_on_disk, tmp_path):
    from sklearn_mmer.datasets import load_feature_table

    corpus = load_feature_table(corpus_on_disk)
    early = make_early_fusion(MODALITIES, classifier=LogisticRegression())
    model = Pipeline(
        [
            early.steps[0],
            ("finite", FunctionTransformer(np.nan_to_num)),
            early.steps[-1],
        ]
    ).fit(corpus.data, corpus.target)
    names = [
        "sklearn.preprocessing._function_transformer.FunctionTransformer",
        "numpy.nan_to_num",
    ]
    path = tmp_path / "abs.mmer"
    sklearn_mmer.save(model, path, trusted=names)
    args = ["predict", "--model", path, "--data", corpus_on_disk, "--quiet"]
    status, _, err = run(*args, "--out", tmp_path / "a")
    assert status == 2 and "--trusted sklearn.preprocessing" in err
    status, _, err = run(*args, "--out", tmp_path / "b", "--trusted", *names)
    assert status == 0, err
    status, _, err = run(*args, "--out", tmp_path / "c", "--trusted", "nodot")
    assert status == 2 and err.startswith("mmer: error: --trusted")


@pytest.mark.parametrize("trusted", ["numpy.log1p", True, ["log1p"], [1]])
def test_load_checks_the_trusted_argument(plain, trusted):
    with pytest.raises((TypeError, ValueError), match="trusted"):
        sklearn_mmer.load(plain[1], trusted=trusted)


def _exists(name):
    module, _, attribute = name.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attribute)
    except ImportError:
        return False


def test_every_trusted_name_exists():
    from sklearn_mmer._io._trusted import OLDER_NAMES

    assert OLDER_NAMES <= TRUSTED_TYPES
    assert {name for name in TRUSTED_TYPES if not _exists(name)} <= OLDER_NAMES


def _payload_names(model):
    from sklearn_mmer._io._nets import take_apart
    from sklearn_mmer._io._trusted import payload_names

    return {
        name for _, name, _, _ in payload_names(skops.io.dumps(take_apart(model)[0]))
    }


@pytest.mark.parametrize(
    "name",
    [f"method:{m}" for m in METHOD_FACTORIES]
    + [
        f"estimator:{e}"
        for e in sorted(set(public_estimator_classes()) - ROUND_TRIPPED_ELSEWHERE)
    ],
)
def test_every_type_the_toolkit_saves_is_listed(corpus, name, tmp_path):
    """Each registered method and public estimator holds listed types only.

    A new method or estimator is found here by itself (and ``_fitted_public``
    must learn to fit a new estimator), so the list cannot fall behind.
    """
    X, y = corpus
    kind, _, what = name.partition(":")
    if kind == "method":
        model = _small(METHOD_FACTORIES[what]()).fit(X, y)
    elif what.endswith("Extractor"):
        model = _fitted_extractor(what, tmp_path)[0]
    else:
        model = _fitted_public(what, X, y)[0]
    assert _payload_names(model) - TRUSTED_TYPES == set()


def test_search_and_random_state_types_are_listed(corpus):
    from sklearn.model_selection import GridSearchCV

    from sklearn_mmer.model_selection import SpeakerKFold

    X, y = corpus
    model = make_early_fusion(
        MODALITIES, classifier=LogisticRegression(random_state=np.random.RandomState(0))
    )
    search = GridSearchCV(
        model,
        {"logisticregression__C": [0.1, 1.0]},
        cv=SpeakerKFold(2),
        scoring="f1_macro",
    ).fit(X, y, groups=X["speaker"])
    assert _payload_names(search) - TRUSTED_TYPES == set()


# --- section 2: limits on what a file may cost -----------------------------------


def _deflated_zeros(mib):
    """A raw deflate stream of ``mib`` MiB of zeros, about 1 KiB per MiB.

    One flushed block, repeated: built in no time, whatever it expands to.
    """
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = block.compress(bytes(2**20)) + block.flush(zlib.Z_FULL_FLUSH)
    return block * mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def _zip_bytes(entries):
    """A zip of ``(name, data)`` (stored) or ``(name, data, size)`` (deflated).

    Written by hand so that a member may declare any size; the CRC of a
    deflated member is left 0 (the reader must refuse it before reading).
    """
    out, central = io.BytesIO(), []
    for name, data, *declared in entries:
        method, crc = (8, 0) if declared else (0, zlib.crc32(data))
        size = declared[0] if declared else len(data)
        fields = (20, 0, 0, method, 0, 0x21, crc, len(data), size, len(name), 0)
        central.append((fields, out.tell(), name))
        out.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", *fields))
        out.write(name.encode() + data)
    start = out.tell()
    for (version, _, *rest), offset, name in central:
        out.write(
            struct.pack(
                "<4s4B4HL2L5H2L",
                b"PK\x01\x02",
                20,
                3,
                version,
                0,
                *rest,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        out.write(name.encode())
    size = out.tell() - start
    out.write(
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), size, start, 0
        )
    )
    return out.getvalue()


def _container(source, target, extra):
    """``source``'s members plus ``extra`` entries (see ``_zip_bytes``), listed."""
    members = _members(source)
    manifest = json.loads(members.pop("manifest.json"))
    entries = [
        (name, data)
        for name, data in members.items()
        if name not in {e[0] for e in extra}
    ]
    entries += extra
    manifest["members"] = {
        e[0]: {
            "size": e[2] if len(e) > 2 else len(e[1]),
            "sha256": hashlib.sha256(e[1]).hexdigest(),
        }
        for e in entries
    }
    target.write_bytes(
        _zip_bytes([("manifest.json", json.dumps(manifest).encode()), *entries])
    )
    return target


@contextlib.contextmanager
def _bounded(seconds=5, megabytes=64):
    """Assert that the block takes little time and allocates little memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < seconds
    assert peak < megabytes * 2**20, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    "member, mib, refusal",
    [
        ("params.json", 1800, r"'params.json' expands 1\d{3} times"),
        (
            "nets/net_0.safetensors",
            3500,
            r"'nets/net_0.safetensors' would expand to 3\.4 GiB"
            r".*max_member_bytes=2147483648",
        ),
    ],
)
def test_load_refuses_a_member_that_expands_hugely(
    plain, tmp_path, member, mib, refusal
):
    bomb = _deflated_zeros(mib)
    assert len(bomb) < 4 * 2**20  # a file of a few MB...
    path = _container(plain[1], tmp_path / "bomb.mmer", [(member, bomb, mib * 2**20)])
    with _bounded(), pytest.raises(ModelFileError, match=refusal):
        sklearn_mmer.load(path)


def test_load_refuses_a_bomb_inside_the_skops_payload(plain, tmp_path):
    payload = _members(plain[1])["skeleton.skops"]
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        files = [(name, archive.read(name)) for name in archive.namelist()]
    inner = _zip_bytes(files + [("1.npy", _deflated_zeros(500), 500 * 2**20)])
    path = _container(plain[1], tmp_path / "bomb.mmer", [("skeleton.skops", inner)])
    with (
        _bounded(),
        pytest.raises(ModelFileError, match=r"'skeleton.skops/1.npy' expands"),
    ):
        sklearn_mmer.load(path)


@pytest.mark.parametrize("limit", ["max_member_bytes", "max_total_bytes"])
def test_load_limits_are_keywords(plain, limit):
    with pytest.raises(
        ModelFileError, match=rf"more than {limit}=1000 .*pass a larger {limit}"
    ):
        sklearn_mmer.load(plain[1], **{limit: 1000})
    assert sklearn_mmer.load(plain[1], **{limit: None}) is not None


@pytest.mark.parametrize(
    "value, error", [(0, ValueError), (1.5, TypeError), ("1", TypeError)]
)
def test_load_checks_the_limits(plain, value, error):
    with pytest.raises(error, match="max_total_bytes"):
        sklearn_mmer.load(plain[1], max_total_bytes=value)


def _zip_of(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("where", ["payload", "member"])
def test_load_refuses_nested_zips(plain, tmp_path, where):
    nested = _zip_of({"inner.txt": b"x"})

    def plant(members, manifest):
        if where == "payload":
            members["skeleton.skops"] = _edit_payload(
                members["skeleton.skops"], lambda files: files.update({"x.bin": nested})
            )
        else:
            members["params.json"] = nested

    path = _forge(plain[1], tmp_path / "nested.mmer", plant)
    with pytest.raises(
        ModelFileError, match="is a zip archive; a model file nests one zip only"
    ):
        sklearn_mmer.load(path)


DEEP = "[" * 100_000 + "]" * 100_000


def _set_json_value(payload, text):
    def change(schema):
        node = next(n for n in _nodes(schema) if n.get("__loader__") == "JsonNode")
        node["content"] = text

    return _edit_schema(payload, change)


@pytest.mark.parametrize(
    "member", ["manifest.json", "params.json", "schema.json", "JSON value", "nets json"]
)
def test_load_refuses_deep_json_without_recursing(saved_net, tmp_path, member):
    members = _members(saved_net)
    manifest = None
    if member == "manifest.json":
        manifest = DEEP
    elif member == "params.json":
        members["params.json"] = DEEP.encode()
    elif member == "nets json":
        members["nets/net_0.json"] = DEEP.encode()
    elif member == "schema.json":
        members["skeleton.skops"] = _edit_payload(
            members["skeleton.skops"],
            lambda files: files.update(
                {"schema.json": ('{"protocol": 2, "a": ' + DEEP + "}").encode()}
            ),
        )
    else:
        members["skeleton.skops"] = _set_json_value(members["skeleton.skops"], DEEP)
    path = _forge(None, tmp_path / "deep.mmer", members=members, manifest=manifest)
    with (
        _bounded(),
        pytest.raises(
            ModelFileError,
            match=r"nests 10000[01] levels deep|nests more than 100 levels",
        ),
    ):
        sklearn_mmer.load(path)
    if member == "manifest.json":
        with pytest.raises(ModelFileError, match="nests 100000 levels deep"):
            read_manifest(path)


@pytest.fixture(scope="module")
def saved_net(corpus, tmp_path_factory):
    """A small MLP on pooled lexical features, saved: the path."""
    from sklearn_mmer.neural import MLPClassifier
    from sklearn_mmer.preprocessing import TemporalPooling

    X, y = corpus
    arrays = TemporalPooling().fit_transform(X["lexical"])
    model = MLPClassifier((8,), max_iter=2, random_state=0).fit(arrays, y)
    path = tmp_path_factory.mktemp("net") / "net.mmer"
    sklearn_mmer.save(model, path)
    return path


MALFORMED_MANIFESTS = {
    "a list": lambda m: [],
    "members a list": lambda m: {**m, "members": []},
    "a member entry a number": lambda m: {
        **m,
        "members": dict.fromkeys(m["members"], 5),
    },
    "sizes as strings": lambda m: {
        **m,
        "members": {k: {**v, "size": str(v["size"])} for k, v in m["members"].items()},
    },
    "checksums as numbers": lambda m: {
        **m,
        "members": {k: {**v, "sha256": 1} for k, v in m["members"].items()},
    },
    "modalities a list": lambda m: {**m, "modalities": ["visual"]},
    "a modality's width a string": lambda m: {**m, "modalities": {"visual": "5"}},
    "classes a string": lambda m: {**m, "classes": "anger"},
    "format_version a string": lambda m: {**m, "format_version": "1"},
    "truncated": lambda m: json.dumps(m)[:40],
}


@pytest.mark.parametrize("malformed", list(MALFORMED_MANIFESTS))
def test_a_malformed_manifest_is_one_clear_error(
    plain, corpus_on_disk, tmp_path, malformed
):
    manifest = json.loads(_members(plain[1])["manifest.json"])
    changed = MALFORMED_MANIFESTS[malformed](manifest)
    text = changed if isinstance(changed, str) else json.dumps(changed)
    path = tmp_path / "bad.mmer"
    members = _members(plain[1])
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", text)
        for name, data in members.items():
            if name != "manifest.json":
                archive.writestr(name, data)
    for read in (read_manifest, sklearn_mmer.load):
        with pytest.raises(ModelFileError, match=str(path)):
            read(path)
    status, _, err = run(
        "predict",
        "--model",
        path,
        "--data",
        corpus_on_disk,
        "--out",
        tmp_path / "p",
    )
    assert (
        status == 2 and err.startswith("mmer: error: --model") and err.count("\n") == 1
    ), err


@pytest.mark.parametrize(
    "field, value",
    [("device", 5), ("params", []), ("history", "long"), ("estimator", None)],
)
def test_a_malformed_network_member_is_one_clear_error(
    saved_net, tmp_path, field, value
):
    def change(members, manifest):
        config = json.loads(members["nets/net_0.json"])
        members["nets/net_0.json"] = json.dumps({**config, field: value}).encode()

    path = _forge(saved_net, tmp_path / "bad.mmer", change)
    with pytest.raises(ModelFileError, match=f"nets/net_0.json field '{field}'"):
        sklearn_mmer.load(path)


def _npy_header(shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def test_load_refuses_an_npy_header_declaring_a_huge_shape(plain, tmp_path):
    def swell(files):
        name = next(n for n in files if n.endswith(".npy"))
        files[name] = _npy_header((10**6, 10**6)) + files[name][128:]

    def plant(members, manifest):
        members["skeleton.skops"] = _edit_payload(members["skeleton.skops"], swell)

    path = _forge(plain[1], tmp_path / "npy.mmer", plant)
    with (
        _bounded(),
        pytest.raises(
            ModelFileError, match=r"declares an array of shape \(1000000, 1000000\)"
        ),
    ):
        sklearn_mmer.load(path)


@pytest.mark.parametrize("how", ["header length", "tensor shape", "offsets"])
def test_load_refuses_a_safetensors_header_declaring_too_much(saved_net, tmp_path, how):
    def swell(members, manifest):
        data = members["nets/net_0.safetensors"]
        length = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + length])
        if how == "header length":
            members["nets/net_0.safetensors"] = (2**60).to_bytes(8, "little") + data[8:]
            return
        tensor = next(k for k in header if k != "__metadata__")
        if how == "tensor shape":
            header[tensor]["shape"] = [10**9, 10**9]
        else:
            header[tensor]["data_offsets"] = [0, 2**50]
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        members["nets/net_0.safetensors"] = (
            len(text).to_bytes(8, "little") + text + data[8 + length :]
        )

    path = _forge(saved_net, tmp_path / "st.mmer", swell)
    with _bounded(), pytest.raises(ModelFileError, match="net_0.safetensors"):
        sklearn_mmer.load(path)


MALFORMED_SCHEMAS = {
    "another protocol": (lambda s: s.update(protocol=1), "skops protocol 1"),
    "an unknown node kind": (
        lambda s: s.update(__loader__="EvilNode"),
        "unknown kind 'EvilNode'",
    ),
    "a type name not a string": (
        lambda s: s.update(__class__=["Pipeline"]),
        "lacks a string",
    ),
    "a missing array file": (
        lambda s: next(n for n in _nodes(s) if n.get("file")).update(file="gone.npy"),
        "names the member 'gone.npy'",
    ),
    "an unknown array storage": (
        lambda s: next(n for n in _nodes(s) if n.get("file")).update(type="pickle"),
        "unknown storage 'pickle'",
    ),
}


@pytest.mark.parametrize("malformed", list(MALFORMED_SCHEMAS))
def test_a_malformed_skops_schema_is_one_clear_error(plain, tmp_path, malformed):
    change, message = MALFORMED_SCHEMAS[malformed]

    def plant(members, manifest):
        members["skeleton.skops"] = _edit_schema(members["skeleton.skops"], change)

    path = _forge(plain[1], tmp_path / "schema.mmer", plant)
    with pytest.raises(ModelFileError, match=message):
        sklearn_mmer.load(path)


# --- save leaves nothing behind ---------------------------------------------------


def test_save_to_a_folder_is_refused_up_front(plain, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder; give save a file name"):
        sklearn_mmer.save(plain[0], folder)
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sklearn_mmer.save(plain[0], tmp_path / "missing" / "m.mmer")


def test_a_failed_save_leaves_no_partial_file(plain, tmp_path, monkeypatch):
    path = tmp_path / "m.mmer"
    path.write_bytes(b"the previous model")

    def full_disk(self, name, data, *args, **kwargs):
        if name == "params.json":  # a member of the model file, not of skops'
            raise OSError(28, "No space left on device")
        return writestr(self, name, data, *args, **kwargs)

    writestr = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(OSError, match="No space left"):
        sklearn_mmer.save(plain[0], path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mmer"]
    assert path.read_bytes() == b"the previous model"


def test_network_parameters_cannot_make_loading_allocate_more(saved_net, tmp_path):
    """Layer widths in the payload are checked against the weights first.

    Rebuilding a 60,000 x 60,000 hidden layer would take 14 GB before the
    saved weights could be found not to fit it.
    """

    def widen(schema):
        node = next(n for n in _nodes(schema) if n.get("__class__") == "MLPClassifier")
        node["content"]["content"]["hidden_layer_sizes"] = {
            "__class__": "str",
            "__module__": "builtins",
            "__loader__": "JsonNode",
            "content": "[60000, 60000]",
            "is_json": True,
        }

    def plant(members, manifest):
        members["skeleton.skops"] = _edit_schema(members["skeleton.skops"], widen)

    path = _forge(saved_net, tmp_path / "wide.mmer", plant)
    with _bounded(), pytest.raises(ModelFileError, match=r"do not fit.*layers"):
        sklearn_mmer.load(path)


def test_load_asks_to_refit_a_file_naming_a_type_that_moved(plain, tmp_path):
    from sklearn_mmer.methods._stronger import SpeakerColumnGroupKFold

    _, path = plain
    splitter = GridSearchCV(
        LogisticRegression(), {"C": [1.0]}, cv=SpeakerColumnGroupKFold(2)
    )

    def move(schema):
        for node in _nodes(schema):
            if node.get("__class__") == "SpeakerColumnGroupKFold":
                node["__module__"] = "sklearn_mmer.evaluation._stronger"

    payload = _edit_schema(skops.io.dumps(splitter), move)
    forged = _with_payload(path, tmp_path / "old.mmer", payload)
    with pytest.raises(
        ModelFileError,
        match=r"earlier sklearn-mmer, whose sklearn_mmer\.evaluation\._stronger\."
        r"SpeakerColumnGroupKFold is now .*; refit and save",
    ):
        sklearn_mmer.load(forged)


def test_load_asks_to_refit_a_file_naming_the_ensemble_s_old_module(corpus, tmp_path):
    from sklearn_mmer.neural import MLPEnsembleClassifier

    X, y = corpus
    ensemble = MLPEnsembleClassifier((4,), n_members=2, max_iter=1, random_state=0)
    model = make_early_fusion(MODALITIES, classifier=ensemble).fit(X, y)
    path = tmp_path / "ensemble.mmer"
    sklearn_mmer.save(model, path, X=X, y=y, method="early_fusion")
    sklearn_mmer.load(path)  # the file as written loads

    def move(schema):
        for node in _nodes(schema):
            if node.get("__class__") == "MLPEnsembleClassifier":
                node["__module__"] = "sklearn_mmer.neural._ensemble"

    def plant(members, manifest):
        members["skeleton.skops"] = _edit_schema(members["skeleton.skops"], move)

    forged = _forge(path, tmp_path / "old.mmer", plant)
    with pytest.raises(
        ModelFileError,
        match=r"earlier sklearn-mmer, whose sklearn_mmer\.neural\._ensemble\."
        r"MLPEnsembleClassifier is now sklearn_mmer\.neural\._mlp\."
        r"MLPEnsembleClassifier; refit and save",
    ):
        sklearn_mmer.load(forged)
