"""The FastAPI application: its endpoints, over a :class:`~._model.ServedModel`.

Every body is read by the endpoints themselves (never by FastAPI's parsing),
so that each bad input gets the service's own answer: a 4xx whose JSON
``detail`` names the problem. Predictions go through one
:class:`~._batching.MicroBatcher`; extraction runs on worker threads.
"""

import asyncio
import logging
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..extraction import ExtractionError
from ..utils._runtime import __version__
from ._audio import ENCODINGS, STREAM_RATE, AudioFeatures, NoRecipe, StreamWindow
from ._batching import MicroBatcher, PredictionError
from ._metrics import BodyTooLarge, MeteredLimited, Metrics
from ._model import BadRequest, ServedModel

logger = logging.getLogger("sklearn_mmer.serving")

#: Recordings one /predict/audio request may hold at most.
MAX_FILES = 64
_AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif"}


def _check_positive(name, value, *, integer=False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")


def build_app(
    model,
    *,
    max_batch_size,
    max_wait_ms,
    max_body_bytes,
    hop_seconds,
    window_seconds,
    manifest,
    device,
    trusted,
):
    """The application of :func:`sklearn_mmer.serving.create_app`."""
    _check_positive("max_batch_size", max_batch_size, integer=True)
    _check_positive("max_body_bytes", max_body_bytes, integer=True)
    _check_positive("hop_seconds", hop_seconds)
    _check_positive("window_seconds", window_seconds)
    if isinstance(max_wait_ms, bool) or not max_wait_ms >= 0:
        raise ValueError(f"max_wait_ms must be 0 or more; got {max_wait_ms!r}")
    served = ServedModel(model, manifest=manifest, device=device, trusted=trusted)
    audio = AudioFeatures(served.recipe, list(served.widths), device=device)
    metrics = Metrics()
    batcher = MicroBatcher(
        served.predict,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        on_batch=metrics.batch_size.observe,
    )
    settings = {
        "max_batch_size": max_batch_size,
        "max_wait_ms": max_wait_ms,
        "max_body_bytes": max_body_bytes,
        "stream": {
            "sampling_rate": STREAM_RATE,
            "encodings": sorted(ENCODINGS),
            "hop_seconds": hop_seconds,
            "window_seconds": window_seconds,
            "available": not audio.reason,
        },
    }

    @asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()

    app = FastAPI(
        title="sklearn-mmer model service",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.served = served
    app.state.metrics = metrics
    app.add_middleware(MeteredLimited, metrics=metrics, max_body_bytes=max_body_bytes)

    @app.exception_handler(BadRequest)
    async def bad_request(request, error):
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    @app.exception_handler(PredictionError)
    async def failed(request, error):
        # logged where it happened, with its traceback; none goes to the client
        return JSONResponse({"detail": f"internal error: {error}"}, status_code=500)

    @app.exception_handler(Exception)
    async def unexpected(request, error):
        # the traceback goes to the log, never to the client
        logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return JSONResponse(
            {"detail": "internal error: the server could not answer; see its log"},
            status_code=500,
        )

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/model")
    async def model_card():
        return {**served.card(), "serving": settings}

    @app.get("/metrics")
    async def prometheus():
        return Response(
            generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST
        )

    @app.post("/predict")
    async def predict(request: Request):
        X = served.instances(await request.body())
        return {"predictions": await batcher.submit(X)}

    @app.post("/predict/audio")
    async def predict_audio(request: Request):
        try:
            audio.check()
        except NoRecipe as error:
            raise BadRequest(422, str(error)) from None
        uploads = await _uploads(request)
        with tempfile.TemporaryDirectory(prefix="mmer-upload-") as folder:
            paths = []
            for k, (name, upload) in enumerate(uploads):
                path = Path(folder) / f"{k}{Path(name).suffix.lower()}"
                path.write_bytes(await upload.read())
                paths.append(str(path))
            names = [name for name, _ in uploads]
            try:
                rows = await asyncio.to_thread(audio.extract, paths, names)
            except ExtractionError as error:
                raise BadRequest(422, _extraction_detail(error)) from None
        X = served.frame(rows)
        answers = await batcher.submit(X)
        return {
            "predictions": [
                {"file": name, **answer} for name, answer in zip(names, answers)
            ]
        }

    @app.websocket("/stream")
    async def stream(websocket: WebSocket):
        await websocket.accept()
        encoding = websocket.query_params.get("encoding", "s16")
        if encoding not in ENCODINGS or audio.reason:
            detail = audio.reason or (
                f"encoding {encoding!r} is unknown; use "
                + " or ".join(map(repr, sorted(ENCODINGS)))
            )
            await websocket.send_json({"error": detail})
            await websocket.close(code=1008)
            return
        window = StreamWindow(hop_seconds, window_seconds, encoding)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is None:
                    if (message.get("text") or "").strip() == "end":
                        await websocket.close()
                        return
                    await websocket.send_json(
                        {"error": "send audio as binary messages, or 'end' to stop"}
                    )
                    continue
                for start, end, samples in window.add(message["bytes"]):
                    answer = await _stream_answer(audio, served, batcher, samples)
                    await websocket.send_json({"start": start, "end": end, **answer})
                    metrics.stream_answers.inc()
        except WebSocketDisconnect:
            return

    return app


async def _stream_answer(audio, served, batcher, samples):
    try:
        rows = await asyncio.to_thread(audio.extract_samples, samples)
    except ExtractionError as error:
        return {"label": None, "error": _extraction_detail(error)}
    try:
        (answer,) = await batcher.submit(served.frame([rows]))
    except PredictionError:
        return {"label": None, "error": "the model failed on this window"}
    return answer


def _extraction_detail(error):
    detail = f" ({error.detail})" if error.detail else ""
    return f"{error.item}: {error.reason}{detail}"


async def _uploads(request):
    """The uploaded files of a multipart body as ``(file name, upload)``."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest(
            422,
            "send the recordings as multipart/form-data files (curl -F "
            "file=@speech.wav); got content type " + repr(content_type or "none"),
        )
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES)
    except BodyTooLarge:
        raise
    except Exception as error:  # Starlette's parser raises several kinds
        raise BadRequest(400, f"the multipart body cannot be read: {error}") from None
    uploads = [
        (value.filename or key, value)
        for key, value in form.multi_items()
        if hasattr(value, "read") and hasattr(value, "filename")
    ]
    if not uploads:
        raise BadRequest(422, "no file in the body: upload at least one recording")
    for name, _ in uploads:
        suffix = Path(name).suffix.lower()
        if suffix and suffix not in _AUDIO_SUFFIXES:
            raise BadRequest(
                422,
                f"{name}: not a recording this service reads (give "
                + ", ".join(sorted(_AUDIO_SUFFIXES))
                + ")",
            )
    return uploads
