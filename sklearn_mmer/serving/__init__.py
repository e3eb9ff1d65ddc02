"""Serving a saved model: an HTTP and streaming service over a model file.

:func:`create_app` builds an ASGI application (FastAPI) around a model file
read with the safe loader :func:`sklearn_mmer.load`, or around a fitted model:
``GET /health``, ``GET /model`` (the model card as JSON), ``POST /predict``
(features as JSON), ``POST /predict/audio`` (recordings, for a model that keeps
an extraction recipe), ``WebSocket /stream`` (live 16 kHz PCM, an answer every
hop) and ``GET /metrics`` (Prometheus). Requests that arrive together are
predicted as one batch. :func:`serve` runs it with uvicorn, as ``mmer serve``
does.

FastAPI, uvicorn, prometheus-client, python-multipart and websockets are an
extra: ``pip install "sklearn-mmer[serve]"``. This package imports none of
them until :func:`create_app` or :func:`serve` is called.
"""

import importlib.util

__all__ = ["create_app", "serve"]

#: The pip command that installs what serving needs.
SERVE_PIP = 'pip install "sklearn-mmer[serve]"'
#: Instances predicted together at most (micro-batching).
DEFAULT_MAX_BATCH_SIZE = 32
#: How long the first request of a batch waits for others, in milliseconds.
DEFAULT_MAX_WAIT_MS = 5.0
#: The largest request body accepted (features or recordings), in bytes.
DEFAULT_MAX_BODY_BYTES = 16 * 2**20
#: The stream's answers: one every hop, over the last window, in seconds.
DEFAULT_HOP_SECONDS = 0.5
DEFAULT_WINDOW_SECONDS = 3.0

# the distribution -> the modules it may provide (python-multipart's is
# python_multipart since 0.0.13, multipart before)
_NEEDED = {
    "fastapi": ("fastapi",),
    "uvicorn": ("uvicorn",),
    "prometheus-client": ("prometheus_client",),
    "python-multipart": ("python_multipart", "multipart"),
    "websockets": ("websockets",),
}


def check_serve_support():
    """Raise an ImportError naming the pip command when the extra is missing."""
    missing = [
        distribution
        for distribution, modules in _NEEDED.items()
        if all(importlib.util.find_spec(module) is None for module in modules)
    ]
    if missing:
        raise ImportError(
            f"serving a model needs {', '.join(missing)}, which are not "
            f"installed: {SERVE_PIP}"
        )


def create_app(
    model,
    *,
    max_batch_size=DEFAULT_MAX_BATCH_SIZE,
    max_wait_ms=DEFAULT_MAX_WAIT_MS,
    max_body_bytes=DEFAULT_MAX_BODY_BYTES,
    hop_seconds=DEFAULT_HOP_SECONDS,
    window_seconds=DEFAULT_WINDOW_SECONDS,
    manifest=None,
    device=None,
    trusted=None,
):
    """An ASGI application (FastAPI) that serves a model over HTTP and WebSocket.

    Endpoints:

    - ``GET /health``: ``{"status": "ok"}``.
    - ``GET /model``: the model card as JSON: method, estimator, classes,
      modalities with their feature widths, the extraction recipe when the
      model file keeps one, versions, and the service's settings.
    - ``POST /predict``: ``{"instances": [{"<modality>": [[frame], ...] or
      null, ...}, ...]}`` gives ``{"predictions": [{"label": ...,
      "probabilities": {"<class>": p, ...}}, ...]}``, the labels and
      probabilities :func:`~sklearn_mmer.evaluation.prediction_table` (and
      ``mmer predict``) give for the same features. Every modality of the
      model is named in each instance; ``null`` is a missing modality, as in
      the estimators. A modality is a list of frames (each a list of as many
      numbers as its width) or one vector.
    - ``POST /predict/audio``: one or more recordings (WAV, FLAC) as
      ``multipart/form-data`` files, for a model whose file keeps the
      extraction recipe of its corpus: extracted as at fit time, then
      predicted, one prediction per file.
    - ``WebSocket /stream``: the client sends 16 kHz mono PCM as binary
      messages (16-bit little-endian; ``?encoding=f32`` for 32-bit floats);
      the server answers every ``hop_seconds`` of audio with the prediction
      over the last ``window_seconds``, as JSON with ``start`` and ``end`` in
      seconds from the start of the stream.
    - ``GET /metrics``: Prometheus' text format: requests by endpoint and
      status, a latency histogram, batch sizes, stream answers.

    Requests that arrive together are predicted as one batch of at most
    ``max_batch_size`` instances, the first waiting at most ``max_wait_ms``
    for others; the labels are those of one-at-a-time prediction, and the
    probabilities too up to float32 rounding (about 1e-7), which can differ
    with a batch's size. Bad input gets a 4xx answer whose JSON ``detail``
    names the problem (400: malformed JSON; 413: a body over
    ``max_body_bytes``; 422: wrong widths, NaN or inf, an unknown or missing
    modality, no instances, unreadable audio); an unexpected error gets a 500
    whose body holds no traceback, and is logged on the ``sklearn_mmer.serving``
    logger.

    Parameters
    ----------
    model : str, path-like or estimator
        A model file (written by :func:`sklearn_mmer.save` or ``mmer fit``),
        loaded with :func:`sklearn_mmer.load` (the exact allow-list; nothing
        is unpickled), or a fitted classifier.
    max_batch_size : int, default=32
        The most instances predicted together; 1 turns micro-batching off.
    max_wait_ms : float, default=5.0
        How long the first request of a batch waits for others to join it.
    max_body_bytes : int, default=16 MiB
        The largest request body accepted (413 above it).
    hop_seconds : float, default=0.5
        ``/stream`` answers once per this much audio.
    window_seconds : float, default=3.0
        ``/stream`` predicts over this much of the latest audio.
    manifest : dict, default=None
        The model's manifest (:func:`sklearn_mmer.io.read_manifest`) when
        ``model`` is an estimator: its modalities and widths are then checked,
        and its recipe used. Read from the file when ``model`` is a path.
    device : str, default=None
        Where to load the networks and run the encoders (as in
        :func:`sklearn_mmer.load`).
    trusted : list of str, default=None
        Further types the model file may name (as in :func:`sklearn_mmer.load`).

    Returns
    -------
    app : fastapi.FastAPI
        The application, to run with uvicorn (or any ASGI server).

    Raises
    ------
    ImportError
        Without the ``serve`` extra (the message names the pip command).
    sklearn_mmer.io.ModelFileError
        When the model file is refused.

    See Also
    --------
    serve : Runs the application with uvicorn.
    sklearn_mmer.evaluation.prediction_table : The same predictions, offline.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from fastapi.testclient import TestClient
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_mmer.preprocessing import TemporalPooling
    >>> from sklearn_mmer.serving import create_app
    >>> cells = [np.full((3, 2), v) for v in (0.0, 1.0, 0.1, 0.9)]
    >>> X = pd.DataFrame({"acoustic": cells})
    >>> y = ["calm", "angry", "calm", "angry"]
    >>> model = make_pipeline(TemporalPooling(), LogisticRegression()).fit(X, y)
    >>> app = create_app(model, manifest={"modalities": {"acoustic": 2}})
    >>> with TestClient(app) as client:
    ...     body = {"instances": [{"acoustic": [[1.0, 1.0]]}]}
    ...     answer = client.post("/predict", json=body)
    >>> answer.json()["predictions"][0]["label"]
    'angry'
    """
    check_serve_support()
    from ._app import build_app

    return build_app(
        model,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        max_body_bytes=max_body_bytes,
        hop_seconds=hop_seconds,
        window_seconds=window_seconds,
        manifest=manifest,
        device=device,
        trusted=trusted,
    )


def serve(
    model,
    *,
    host="127.0.0.1",
    port=8000,
    log_level="info",
    **options,
):
    """Serve a model with uvicorn until stopped (SIGTERM or Ctrl-C).

    On SIGTERM or Ctrl-C the server stops accepting connections and answers
    the requests in flight before it exits (uvicorn's graceful shutdown).

    Parameters
    ----------
    model : str, path-like or estimator
        As in :func:`create_app`.
    host : str, default="127.0.0.1"
        The address to listen on (``0.0.0.0`` for every interface).
    port : int, default=8000
        The port to listen on (0 for a free one).
    log_level : str, default="info"
        uvicorn's log level (``"error"`` for errors only).
    **options
        :func:`create_app`'s keyword arguments.

    See Also
    --------
    create_app : The application it runs.

    Examples
    --------
    >>> from sklearn_mmer.serving import serve
    >>> serve("model.mmer", port=8000)  # doctest: +SKIP
    """
    check_serve_support()
    import uvicorn

    app = create_app(model, **options)
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=30
    )
    uvicorn.Server(config).run()
