"""The service's Prometheus metrics, and the ASGI layer that records them and
enforces the body size limit.

Each application has its own registry, so that two applications in one
process (the tests, say) count apart.
"""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

#: The endpoints counted by name; any other path is counted as "other", so
#: that a scan of random paths cannot grow the metrics without bound.
ENDPOINTS = ("/health", "/model", "/predict", "/predict/audio", "/stream", "/metrics")
_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Metrics:
    """Requests by endpoint and status, latency, batch sizes, stream answers."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mmer_requests",
            "Requests answered, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mmer_request_duration_seconds",
            "Time from a request's arrival to its answer, by endpoint.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "mmer_batch_size",
            "Instances predicted together in one batch.",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.stream_answers = Counter(
            "mmer_stream_answers",
            "Answers sent on /stream, one per hop.",
            registry=self.registry,
        )


class BodyTooLarge(Exception):
    """A request body went over the limit while it was read."""


class MeteredLimited:
    """ASGI middleware: counts every request, and refuses bodies over a limit
    with 413 (from Content-Length at once, or as a body without one is read).

    Parameters
    ----------
    app : ASGI application
    metrics : Metrics
    max_body_bytes : int
    """

    def __init__(self, app, *, metrics, max_body_bytes):
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        endpoint = path if path in ENDPOINTS else "other"
        begun = time.perf_counter()
        # an answer never started is a failure (500) unless a websocket
        status = {"code": "websocket" if scope["type"] == "websocket" else "500"}
        started = False

        async def sending(message):
            nonlocal started
            if message["type"] == "http.response.start":
                status["code"] = str(message["status"])
                started = True
            await send(message)

        try:
            if scope["type"] == "http" and self._declared_too_large(scope):
                await _too_large(sending, self.max_body_bytes)
            else:
                await self.app(scope, self._limited(receive), sending)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(sending, self.max_body_bytes)
        finally:
            self.metrics.requests.labels(endpoint, status["code"]).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - begun)

    def _declared_too_large(self, scope):
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value) > self.max_body_bytes
                except ValueError:
                    return False
        return False

    def _limited(self, receive):
        read = 0

        async def receiving():
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        return receiving


async def _too_large(send, limit):
    body = (
        b'{"detail":"the request body is larger than the limit of '
        + str(limit).encode()
        + b' bytes (max_body_bytes, mmer serve --max-body-bytes)"}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
