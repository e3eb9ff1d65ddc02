"""``mmer serve`` and sklearn_mmer.serving: a real uvicorn server on a free
loopback port, called over HTTP (httpx) and WebSocket (websockets)."""

import asyncio
import json
import math
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

from sklearn_mmer._testing import make_tiny_corpus  # noqa: E402
from sklearn_mmer.evaluation import prediction_table, set_epochs  # noqa: E402
from sklearn_mmer.io import load, save  # noqa: E402
from sklearn_mmer.methods import make_methods  # noqa: E402
from sklearn_mmer.serving import create_app  # noqa: E402

MODALITIES = ["visual", "acoustic", "lexical"]
DEADLINE = 30.0
# a fresh python importing torch and the model: slow on a loaded machine
START_DEADLINE = 120.0


class Server:
    """uvicorn serving ``app`` in a thread on a free loopback port."""

    def __init__(self, app):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + DEADLINE
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            assert self.thread.is_alive(), "the server thread ended"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(DEADLINE)
        self.sock.close()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    X, y, _ = make_tiny_corpus(80)
    X = X.drop(columns="speaker")
    model = make_methods(MODALITIES, ["early_fusion"], random_state=0)["early_fusion"]
    set_epochs(model, 3)
    model.fit(X, y)
    path = tmp_path_factory.mktemp("model") / "model.mmer"
    save(model, path, X=X, y=y, method="early_fusion")
    return path, X


@pytest.fixture(scope="module")
def server(fitted):
    path, _ = fitted
    app = create_app(path, max_batch_size=16, max_wait_ms=20, max_body_bytes=2**20)
    with Server(app) as running:
        yield running


def _instance(X, row):
    return {m: (None if X[m].iat[row] is None else X[m].iat[row].tolist()) for m in X}


def _expected(path, X):
    return prediction_table(load(path), X)


def _assert_same(answer, table, row, *, exact=True):
    assert answer["label"] == table["predicted_label"].iat[row]
    for label, p in answer["probabilities"].items():
        expected = table[f"proba_{label}"].iat[row]
        if exact:
            assert p == expected
        else:  # float32 rounding may differ with the batch's size
            assert p == pytest.approx(expected, abs=1e-6)


def test_health_and_model_card(server, fitted):
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    card = httpx.get(f"{server.url}/model").json()
    assert card["method"] == "early_fusion"
    assert card["modalities"] == {"visual": 12, "acoustic": 6, "lexical": 8}
    assert card["classes"] == sorted(card["classes"]) and len(card["classes"]) == 4
    assert card["versions"]["sklearn-mmer"] and card["recipe"] is None
    assert card["serving"]["max_batch_size"] == 16


def test_predictions_equal_prediction_table(server, fitted):
    path, X = fitted
    X = X.iloc[:10].copy()
    X.at[X.index[3], "visual"] = None  # a missing modality
    body = {"instances": [_instance(X, k) for k in range(len(X))]}
    answers = httpx.post(f"{server.url}/predict", json=body).json()["predictions"]
    table = _expected(path, X)
    assert len(answers) == len(X)
    for k, answer in enumerate(answers):
        _assert_same(answer, table, k)


def _bad_bodies(X):
    good = _instance(X, 0)
    return [
        (b"{not json", 400, "not valid JSON"),
        (json.dumps({"instances": []}), 422, "empty"),
        (json.dumps({"rows": [good]}), 422, "instances"),
        (json.dumps({"instances": [{**good, "video": [[1.0]]}]}), 422, "'video'"),
        (json.dumps({"instances": [{"visual": good["visual"]}]}), 422, "lacks"),
        (
            json.dumps({"instances": [{**good, "acoustic": [[1.0, 2.0]]}]}),
            422,
            "width 2",
        ),
        (
            json.dumps({"instances": [{**good, "lexical": [float("nan")] * 8}]}),
            422,
            "NaN",
        ),
        (
            '{"instances": [{"visual": null, "acoustic": null, '
            '"lexical": [1e999, 0, 0, 0, 0, 0, 0, 0]}]}',
            422,
            "not finite",
        ),
        (json.dumps({"instances": [{**good, "lexical": "loud"}]}), 422, "lexical"),
        (
            json.dumps({"instances": [{**good, "visual": [[1.0] * 12, [1.0]]}]}),
            422,
            "one width",
        ),
        (b"x" * (2**20 + 1), 413, "larger than the limit"),
    ]


def test_bad_input_gets_its_4xx_and_the_server_keeps_answering(server, fitted):
    _, X = fitted
    for body, status, words in _bad_bodies(X):
        answer = httpx.post(
            f"{server.url}/predict",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == status, (words, answer.text)
        assert words in answer.json()["detail"]
        good = {"instances": [_instance(X, 0)]}
        assert httpx.post(f"{server.url}/predict", json=good).status_code == 200


def test_body_without_content_length_is_limited(server):
    def chunks():
        for _ in range(40):
            yield b" " * 2**15

    answer = httpx.post(f"{server.url}/predict", content=chunks())
    assert answer.status_code == 413
    assert httpx.get(f"{server.url}/health").status_code == 200


class _Broken:
    classes_ = np.array(["a", "b"])

    def predict(self, X):
        raise RuntimeError("secret internals")


def test_unexpected_error_is_a_500_without_traceback(fitted, server, caplog):
    path, X = fitted
    app = create_app(path)
    app.state.served.estimator = _Broken()
    body = {"instances": [_instance(X, 0)]}
    with Server(app) as running, caplog.at_level("ERROR", "sklearn_mmer.serving"):
        answer = httpx.post(f"{running.url}/predict", json=body)
        assert answer.status_code == 500
        assert "secret" not in answer.text and "Traceback" not in answer.text
        assert httpx.get(f"{running.url}/health").status_code == 200
    assert "secret internals" in caplog.text


async def _burst(url, bodies):
    async with httpx.AsyncClient(base_url=url, timeout=DEADLINE) as client:
        return await asyncio.gather(*(client.post("/predict", json=b) for b in bodies))


def test_burst_is_batched_and_equals_one_at_a_time(server, fitted):
    path, X = fitted
    bodies = [{"instances": [_instance(X, k)]} for k in range(32)]
    answers = asyncio.run(_burst(server.url, bodies))
    assert [a.status_code for a in answers] == [200] * 32
    table = _expected(path, X.iloc[:32])
    # one client for the 32 requests in turn: each new one builds a TLS
    # context, tens of milliseconds of CPU, even for plain HTTP
    with httpx.Client(base_url=server.url, timeout=DEADLINE) as client:
        for k, answer in enumerate(answers):
            (prediction,) = answer.json()["predictions"]
            _assert_same(prediction, table, k, exact=False)
            alone = client.post("/predict", json=bodies[k]).json()
            assert alone["predictions"][0]["label"] == prediction["label"]
    metrics = httpx.get(f"{server.url}/metrics").text
    done = _sample(metrics, 'mmer_requests_total{endpoint="/predict",status="200"}')
    assert done >= 64
    batches = _sample(metrics, "mmer_batch_size_count")
    instances = _sample(metrics, "mmer_batch_size_sum")
    assert batches < instances  # some requests shared a batch


def _sample(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in the metrics")


# --- audio: a model fit on a corpus of mmer extract keeps its recipe -------------

RATE = 16_000


def _tone(frequency, seconds, *, seed):
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).normal(scale=0.01, size=t.size)
    return (0.3 * np.sin(2 * np.pi * frequency * t) + noise).astype(np.float32)


@pytest.fixture(scope="module")
def audio_model(tmp_path_factory):
    soundfile = pytest.importorskip("soundfile")
    pytest.importorskip("librosa")
    import pandas as pd

    from sklearn_mmer.datasets import load_feature_table
    from sklearn_mmer.extraction import extract_corpus, read_recipe

    folder = tmp_path_factory.mktemp("audio")
    rows = []
    for k in range(12):
        low = k % 2 == 0
        path = folder / f"u{k}.wav"
        soundfile.write(path, _tone(220 if low else 880, 1.0, seed=k), RATE)
        emotion = "sadness" if low else "anger"
        rows.append({"file": str(path), "speaker": f"s{k % 3}", "emotion": emotion})
    extract_corpus(pd.DataFrame(rows), folder / "corpus", ["acoustic=mfcc"])
    corpus = load_feature_table(folder / "corpus")
    X = corpus.data[["acoustic"]]
    model = make_methods(["acoustic"], ["early_fusion"], random_state=0)
    model = model["early_fusion"]
    set_epochs(model, 3)
    model.fit(X, corpus.target)
    path = folder / "audio.mmer"
    save(model, path, X=X, y=corpus.target, recipe=read_recipe(folder / "corpus"))
    return path, folder


@pytest.fixture(scope="module")
def audio_server(audio_model):
    with Server(create_app(audio_model[0])) as running:
        yield running


def test_audio_upload_equals_extracting_then_predicting(audio_server, audio_model):
    import pandas as pd

    from sklearn_mmer.extraction import extract_table

    path, folder = audio_model
    files = [folder / "u0.wav", folder / "u1.wav"]
    upload = [("file", (f.name, f.read_bytes(), "audio/wav")) for f in files]
    answer = httpx.post(f"{audio_server.url}/predict/audio", files=upload)
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    table = pd.DataFrame({"file": [str(f) for f in files], "speaker": "s"})
    recipe = json.loads(json.dumps(load_manifest_recipe(path)))
    X = extract_table(table, recipe).data[["acoustic"]]
    expected = _expected(path, X)
    assert [p["file"] for p in predictions] == ["u0.wav", "u1.wav"]
    for k, prediction in enumerate(predictions):
        _assert_same(prediction, expected, k)


def load_manifest_recipe(path):
    from sklearn_mmer.io import read_manifest

    return read_manifest(path)["recipe"]


@pytest.mark.parametrize(
    "files, words",
    [
        ([("file", ("noise.wav", b"RIFF not audio", "audio/wav"))], "noise.wav"),
        ([("file", ("notes.txt", b"hello", "text/plain"))], "not a recording"),
    ],
)
def test_bad_audio_gets_422(audio_server, files, words):
    answer = httpx.post(f"{audio_server.url}/predict/audio", files=files)
    assert answer.status_code == 422 and words in answer.json()["detail"]
    assert httpx.get(f"{audio_server.url}/health").status_code == 200


def test_audio_on_a_model_without_recipe_gets_422(server):
    files = [("file", ("a.wav", b"RIFF", "audio/wav"))]
    answer = httpx.post(f"{server.url}/predict/audio", files=files)
    assert answer.status_code == 422 and "recipe" in answer.json()["detail"]


async def _stream(url, chunks):
    import websockets

    answers = []
    async with websockets.connect(url.replace("http", "ws") + "/stream") as ws:
        for chunk in chunks:
            await ws.send(chunk)
        await ws.send("end")
        async for message in ws:
            answers.append(json.loads(message))
    return answers


def test_stream_answers_every_hop(audio_server):
    samples = _tone(220, 2.2, seed=0)
    pcm = (samples * 32767).astype("<i2").tobytes()
    chunks = [pcm[k : k + 6400] for k in range(0, len(pcm), 6400)]  # 0.2 s each
    answers = asyncio.run(_stream(audio_server.url, chunks))
    assert [(a["start"], a["end"]) for a in answers] == [
        (0.0, 0.5),
        (0.0, 1.0),
        (0.0, 1.5),
        (0.0, 2.0),
    ]
    assert all(a["label"] in ("anger", "sadness") for a in answers)
    assert all(
        math.isclose(sum(a["probabilities"].values()), 1, abs_tol=1e-5) for a in answers
    )
    metrics = httpx.get(f"{audio_server.url}/metrics").text
    assert _sample(metrics, "mmer_stream_answers_total") >= 4


# --- mmer serve ------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mmer_serve_answers_and_sigterm_lets_requests_finish(fitted):
    path, X = fitted
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "sklearn_mmer", "serve", "--model", str(path)]
        + ["--port", str(port), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_DEADLINE
        # one client for every poll: a new one would build a TLS context each
        # time, CPU taken from the server starting beside it
        with httpx.Client(base_url=url, timeout=DEADLINE) as client:
            while True:
                assert process.poll() is None, process.stderr.read()
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "mmer serve did not start"
                time.sleep(0.05)
        body = json.dumps({"instances": [_instance(X, 0)]}).encode()

        def halves():
            yield body[:10]
            process.send_signal(signal.SIGTERM)  # while the request is in flight
            yield body[10:]

        answer = httpx.post(f"{url}/predict", content=halves())
        assert answer.status_code == 200
        assert answer.json()["predictions"][0]["label"]
        assert process.wait(DEADLINE) == 0  # a graceful stop
        assert process.stderr.read() == ""  # --quiet: errors only
    finally:
        process.kill()
        process.wait()


def test_mmer_serve_refuses_a_missing_or_bad_model(tmp_path):
    from sklearn_mmer._testing import run

    status, _, err = run("serve", "--model", tmp_path / "none.mmer")
    assert status == 2 and "no such file" in err
    (tmp_path / "notes.mmer").write_text("not a model")
    status, _, err = run("serve", "--model", tmp_path / "notes.mmer", "--quiet")
    assert status == 2 and err.startswith("mmer: error: --model")
    assert len(err.splitlines()) == 1


def test_without_the_extra_the_error_names_the_pip_command(monkeypatch):
    import importlib.util

    from sklearn_mmer import serving

    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "uvicorn" else found(name, *a),
    )
    with pytest.raises(
        ImportError, match=r'uvicorn.*pip install "sklearn-mmer\[serve\]"'
    ):
        serving.create_app("model.mmer")
