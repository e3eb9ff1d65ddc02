"""Helpers for the test suite: tiny corpora, small fast models, an in-process CLI.

Nothing here is public API. The tests import these helpers from this module,
as scikit-learn's tests do from ``sklearn.utils._testing``, rather than from a
``conftest.py``: a module of the package can be imported by name anywhere,
including in the joblib and Dask worker processes that unpickle
``ThreadRecordingLogisticRegression``, and ``tests/conftest.py`` keeps only
fixtures. The module needs no pytest, and nothing in the package imports it,
so ``import sklearn_mmer`` and ``mmer --help`` never load it. It imports torch
only where a helper needs it, so that a worker process unpickling one of its
scikit-learn classifiers starts in a second rather than several.

It sits beside the subpackages rather than in ``utils``, because it imports
them (the estimators, the synthetic corpus, the command line) and ``utils``
imports nothing else of the package.

- ``make_tiny_corpus``, ``lexical_matrix``: shared tiny corpora with speakers;
- ``fast_sequence``: a small, quick, seeded ``SequenceClassifier``;
- ``run``: ``mmer`` run in this process;
- ``ThreadRecordingLogisticRegression``: records the threads each fit used;
- ``MemoryHoarder``: keeps memory at every fit, so that loky restarts its worker;
- ``write_course_corpus``, ``zip_corpus``, ``make_clean_corpus``, ``FAULTS``,
  ``WIDTHS``: a tiny corpus in the course-feature layout, with one of every
  fault on request;
- ``write_recordings``, ``save_tiny_wav2vec``: tones and noise on disk with a
  CSV of utterances for ``mmer extract``, and a tiny random speech encoder.
"""

import contextlib
import io
import os
import pickle
import signal
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from .cli import main
from .datasets import make_multimodal_emotion, write_feature_table

EMOTIONS = np.array(["anger", "sadness", "happiness", "neutral"])


def make_tiny_corpus(
    n_utterances=160,
    n_speakers=6,
    widths=(("visual", 12), ("acoustic", 6), ("lexical", 8)),
    informative=("lexical",),
    signal=2.0,
    seed=0,
):
    """A small DataFrame of frame sequences (vectors for ``lexical``).

    Only the ``informative`` modalities carry the label: each class shifts their
    frames' mean by ``signal`` along its own direction; the others are noise.
    Returns ``(X, y, speakers)``; X also has a ``speaker`` column.
    """
    rng = np.random.RandomState(seed)
    y = EMOTIONS[rng.randint(len(EMOTIONS), size=n_utterances)]
    codes = pd.Categorical(y, categories=EMOTIONS).codes
    speakers = np.array([f"spk{i % n_speakers:02d}" for i in range(n_utterances)])
    columns = {}
    for modality, width in widths:
        centres = rng.normal(size=(len(EMOTIONS), width)) * signal
        cells = []
        for code in codes:
            mean = centres[code] if modality in informative else 0.0
            if modality == "lexical":
                cells.append(mean + rng.normal(size=width))
            else:
                frames = rng.randint(3, 12)
                cells.append(mean + rng.normal(size=(frames, width)))
        columns[modality] = cells
    X = pd.DataFrame(columns)
    X["speaker"] = speakers
    return X, y, speakers


def lexical_matrix(X):
    """The tiny corpus's ``lexical`` vectors as one ``(n, 8)`` float array."""
    return np.vstack([np.asarray(c, dtype=float).reshape(-1, 8) for c in X["lexical"]])


def fast_sequence(modalities="acoustic", **params):
    """A small, quick SequenceClassifier (seeded) for the sequence-model tests."""
    params = {
        "hidden_dim": 16,
        "n_heads": 2,
        "learning_rate_init": 0.01,
        "max_iter": 15,
        **params,
    }
    from .neural import SequenceClassifier

    return SequenceClassifier(modalities, random_state=0, **params)


class ThreadRecordingLogisticRegression(LogisticRegression):
    """Keeps the torch and BLAS threads its fit computed with (and, in this
    process, every fit's in ``seen``)."""

    seen = []

    def fit(self, X, y, sample_weight=None):
        import torch

        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        self.threads_ = {torch.get_num_threads(), *blas}
        self.seen.append(self.threads_)
        return super().fit(X, y, sample_weight=sample_weight)


#: What each ``MemoryHoarder`` fit keeps, in the process that ran it.
HOARD = []


class MemoryHoarder(LogisticRegression):
    """Keeps 40 MB per fit, and records the process it was fit in (``pid_``).

    loky restarts a worker whose memory grew by 300 MB since its first task,
    checking at most once a second. In the worker it runs in, a hoarder scales
    those two limits down tenfold, to 30 MB and 0.1 s: the same restart, for
    40 MB and a tenth of a second per fit rather than 400 MB and a second.
    """

    def fit(self, X, y, sample_weight=None):
        from joblib.externals.loky import process_executor

        process_executor._MAX_MEMORY_LEAK_SIZE = int(3e7)
        process_executor._MEMORY_LEAK_CHECK_DELAY = 0.1
        HOARD.append(np.ones(5_000_000))
        time.sleep(0.15)  # past the check delay
        self.pid_ = os.getpid()
        return super().fit(X, y, sample_weight=sample_weight)


def run(*args):
    """``(status, stdout, stderr)`` of ``mmer args``, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


# ``python -m sklearn_mmer`` with Ctrl-C as a terminal gives it: a process
# started with SIGINT ignored (a background job of a shell script, as a test
# run may be) passes that on to its children, and Python then leaves SIGINT
# ignored, as it should.
_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('sklearn_mmer', run_name='__main__', alter_sys=True)"
)


def mmer_command(*args):
    """The command line of a real ``mmer args`` process that Ctrl-C (SIGINT)
    stops, whatever the test run's own SIGINT setting."""
    return [sys.executable, "-c", _WITH_CTRL_C, *(str(a) for a in args)]


@contextlib.contextmanager
def ctrl_c_raises():
    """Inside, SIGINT raises ``KeyboardInterrupt`` in this process, as at a
    terminal, even where the test run was started with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# A tiny corpus in the course-feature layout: ``write_course_corpus`` writes a
# clean corpus from ``make_multimodal_emotion`` with ``write_feature_table`` and
# then breaks it, one fault per row, so that each fault's row, modality and
# expected reason are known (``FAULTS``).
WIDTHS = {"visual": 6, "acoustic": 4, "lexical": 5}
N_UTTERANCES = 30

# name: (row, modality or None for a row fault, reason kind in a folder,
#        reason kind in a .zip), rows 1..19; rows 0 and 20..29 stay clean
FAULTS = {
    "missing_file": (1, "visual", "file not found", "file not found"),
    "truncated": (2, "acoustic", "unreadable .npy", "unreadable .npy"),
    "not_npy": (3, "lexical", "not a .npy file", "not a .npy file"),
    "object_array": (4, "visual", "needs unpickling", "needs unpickling"),
    "pickle_file": (5, "acoustic", "needs unpickling", "needs unpickling"),
    "nan": (6, "lexical", "NaN or inf values", "NaN or inf values"),
    "inf": (7, "acoustic", "NaN or inf values", "NaN or inf values"),
    "wrong_width": (8, "visual", "wrong feature width", "wrong feature width"),
    "empty_sequence": (9, "acoustic", "empty sequence", "empty sequence"),
    "duplicate_id": (10, None, "duplicate id", "duplicate id"),
    "unknown_label": (11, None, "unknown label", "unknown label"),
    "label_out_of_range": (12, None, "unknown label", "unknown label"),
    "dotdot_path": (13, "visual", "path escapes", "path escapes"),
    "rooted_dotdot_path": (14, "acoustic", "path escapes", "path escapes"),
    # a host path outside the root: reported as a missing file (whether or not
    # it exists, so that a corpus cannot probe the machine); in a zip every
    # path is root-relative, so it is simply not there
    "absolute_outside": (15, "lexical", "file not found", "file not found"),
    # zipping follows no links, so in a zip the file is absent
    "symlink_outside": (16, "visual", "path escapes", "file not found"),
    "npz_archive": (17, "acoustic", "not a .npy file", "not a .npy file"),
    "no_path": (18, "lexical", "no file named", "no file named"),
    "bad_shape": (19, "visual", "bad shape", "bad shape"),
    "non_numeric": (20, "lexical", "non-numeric dtype", "non-numeric dtype"),
}


def make_clean_corpus(n_utterances=N_UTTERANCES, seed=0):
    """``(X, y, speakers)`` from the synthetic generator, tiny widths, few frames."""
    X, y = make_multimodal_emotion(
        n_utterances,
        n_speakers=4,
        n_sessions=2,
        modalities=dict(WIDTHS),
        n_frames=(2, 5),
        random_state=seed,
        return_X_y=True,
    )
    return X, y, X["speaker"].to_numpy()


def _file(root, table, row, modality):
    return Path(root) / table.loc[row, f"{modality}_features"].lstrip("/")


def _inject(root, table, name, outside):
    row, modality, _, _ = FAULTS[name]
    column = f"{modality}_features"
    path = _file(root, table, row, modality) if modality else None
    width = WIDTHS.get(modality)
    if name == "missing_file":
        path.unlink()
    elif name == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 10])
    elif name == "not_npy":
        path.write_bytes(b"this is not an array\n")
    elif name == "object_array":
        np.save(path, np.array([{"frames": 1}], dtype=object), allow_pickle=True)
    elif name == "pickle_file":
        path.write_bytes(pickle.dumps(np.ones((3, width)), protocol=4))
    elif name in ("nan", "inf"):
        array = np.load(path)
        array.flat[0] = np.nan if name == "nan" else np.inf
        np.save(path, array)
    elif name == "wrong_width":
        np.save(path, np.ones((3, width + 1), dtype=np.float32))
    elif name == "empty_sequence":
        np.save(path, np.ones((0, width), dtype=np.float32))
    elif name == "duplicate_id":
        table.loc[row, "file_name_list"] = table.loc[0, "file_name_list"]
    elif name == "unknown_label":
        table.loc[row, "emotion_labels"] = "frustration"
    elif name == "label_out_of_range":
        table.loc[row, "emotion_labels"] = "7"
    elif name == "dotdot_path":
        table.loc[row, column] = "../outside.npy"
    elif name == "rooted_dotdot_path":
        table.loc[row, column] = "/features/../../outside.npy"
    elif name == "absolute_outside":
        table.loc[row, column] = str(outside)
    elif name == "symlink_outside":
        path.unlink()
        os.symlink(outside, path)
    elif name == "npz_archive":
        with open(path, "wb") as handle:
            np.savez(handle, frames=np.ones((3, width)))
    elif name == "no_path":
        table.loc[row, column] = ""
    elif name == "bad_shape":
        np.save(path, np.ones((2, 3, width), dtype=np.float32))
    elif name == "non_numeric":
        np.save(path, np.array(["a", "b", "c", "d", "e"]))


def write_course_corpus(folder, faults=(), *, seed=0):
    """Write the tiny corpus into ``folder`` (a subfolder ``corpus`` of it).

    The ``faults`` named (keys of ``FAULTS``) are injected; a valid ``.npy``
    is left beside the corpus root, as ``folder/outside.npy``, for the paths
    that try to escape. Returns ``(root, X, y, speakers)`` of the clean corpus.
    """
    X, y, speakers = make_clean_corpus(seed=seed)
    root = Path(folder) / "corpus"
    csv_path = write_feature_table(X, y, root)
    outside = Path(folder) / "outside.npy"
    np.save(outside, np.ones((3, WIDTHS["visual"]), dtype=np.float32))
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    for name in faults:
        _inject(root, table, name, outside)
    table.to_csv(csv_path, index=False)
    return root, X, y, speakers


def zip_corpus(root, zip_path, *, top=None):
    """Zip the corpus folder, under ``top/`` when given; links are left out."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and not path.is_symlink():
                name = path.relative_to(root).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
    return zip_path


# --- recordings for mmer extract ------------------------------------------------

#: The base pitch of each emotion's tones in ``write_recordings``: the labels
#: are learnable from the audio, so that a pipeline on it scores above chance.
PITCHES = {"anger": 300.0, "sadness": 150.0, "happiness": 450.0, "neutral": 220.0}


def write_recordings(folder, *, n_speakers=4, per_speaker=5, seed=0, labels=True):
    """Short WAV files of tones in noise, one pitch per emotion, and their CSV.

    Writes ``folder/audio/<speaker>_<k>.wav`` (16 kHz, 0.3 to 0.6 s, each
    speaker a little detuned) and ``folder/utterances.csv`` with ``file``,
    ``speaker``, ``emotion`` (left out when ``labels`` is False) and a
    ``session`` column to carry over; returns the CSV's path.
    """
    import soundfile

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    rows = []
    emotions = list(PITCHES)
    for s in range(n_speakers):
        detune = 1.0 + 0.05 * s
        for k in range(per_speaker):
            emotion = emotions[(s + k) % len(emotions)]
            n = int(16000 * rng.uniform(0.3, 0.6))
            t = np.arange(n) / 16000
            pitch = PITCHES[emotion] * detune
            samples = 0.3 * np.sin(2 * np.pi * pitch * t)
            samples += 0.1 * np.sin(2 * np.pi * 2 * pitch * t)
            samples += rng.normal(0, 0.02, n)
            name = f"audio/spk{s}_{k}.wav"
            soundfile.write(folder / name, samples.astype(np.float32), 16000)
            rows.append(
                {"file": name, "speaker": f"spk{s}", "emotion": emotion, "session": 1}
            )
    table = pd.DataFrame(rows)
    if not labels:
        table = table.drop(columns="emotion")
    table.to_csv(folder / "utterances.csv", index=False)
    return folder / "utterances.csv"


def save_tiny_wav2vec(folder, *, seed=0):
    """A tiny randomly initialised wav2vec 2.0 saved to ``folder`` (returned)."""
    import torch
    import transformers

    folder = Path(folder)
    torch.manual_seed(seed)
    config = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        conv_dim=(8, 8),
        conv_kernel=(10, 3),
        conv_stride=(5, 2),
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    transformers.Wav2Vec2Model(config).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, do_normalize=True, return_attention_mask=True
    ).save_pretrained(folder)
    return folder
