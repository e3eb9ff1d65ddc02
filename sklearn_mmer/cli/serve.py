"""``mmer serve``: serve a model file over HTTP and WebSocket until stopped.

A thin layer over :func:`sklearn_mmer.serving.serve` (FastAPI on uvicorn, the
``serve`` extra): the model file is loaded with the safe loader, and SIGTERM or
Ctrl-C lets the requests in flight finish before the server exits, with
status 0: a stop asked for is a clean end for a service.
"""

from pathlib import Path

from ._common import EXIT_OK, Reporter, UsageError
from ._options import add_quiet_and_traceback_options, byte_count, int_at_least

#: The serving defaults (sklearn_mmer.serving's, not imported here: --help
#: stays quick)
DEFAULTS = {"max_batch_size": 32, "max_wait_ms": 5.0, "max_body_bytes": "16M"}


def _port(text):
    try:
        port = int(text)
    except ValueError:
        raise _type_error(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise _type_error(f"a port is from 0 to 65535; got {port}")
    return port


def _milliseconds(text):
    try:
        value = float(text)
    except ValueError:
        raise _type_error(f"{text!r} is not a number of milliseconds") from None
    if not 0 <= value <= 60_000:
        raise _type_error(f"must be from 0 to 60000 ms; got {text}")
    return value


def _type_error(message):
    import argparse

    return argparse.ArgumentTypeError(message)


def add_parser(commands):
    """Add ``mmer serve`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "serve",
        help="serve a model file over HTTP and WebSocket (needs the serve extra)",
        description=(
            "Serve a model file written by 'mmer fit' or sklearn_mmer.save: GET "
            "/health, GET /model (its card as JSON), POST /predict (features as "
            "JSON), POST /predict/audio (recordings, for a model that keeps an "
            "extraction recipe), WebSocket /stream (live 16 kHz PCM) and GET "
            "/metrics (Prometheus). Requests arriving together are predicted as "
            "one batch. SIGTERM or Ctrl-C lets the requests in flight finish. "
            'Needs pip install "sklearn-mmer[serve]".'
        ),
    )
    parser.add_argument(
        "--model", required=True, metavar="PATH", help="a model file to serve"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; "
        "0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to listen on, 0 for a free one (default 8000)",
    )
    parser.add_argument(
        "--max-batch-size",
        type=int_at_least(1),
        default=DEFAULTS["max_batch_size"],
        metavar="N",
        help="most instances predicted together; 1 turns micro-batching off "
        f"(default {DEFAULTS['max_batch_size']})",
    )
    parser.add_argument(
        "--max-wait-ms",
        type=_milliseconds,
        default=DEFAULTS["max_wait_ms"],
        metavar="MS",
        help="how long the first request of a batch waits for others "
        f"(default {DEFAULTS['max_wait_ms']:g})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=byte_count,
        default=byte_count(DEFAULTS["max_body_bytes"]),
        metavar="SIZE",
        help="largest request body accepted, in bytes or with a K, M, G or T "
        f"suffix; larger ones get 413 (default {DEFAULTS['max_body_bytes']})",
    )
    parser.add_argument(
        "--device",
        default=None,
        metavar="DEVICE",
        help="where the networks and encoders run: cpu, cuda (default: the "
        "device the model was saved with when available, else cpu)",
    )
    add_quiet_and_traceback_options(parser)
    parser.set_defaults(run=run)
    return parser


def run(args):
    """``mmer serve``: serve a model file until SIGTERM or Ctrl-C."""
    say = Reporter(quiet=args.quiet)
    if not Path(args.model).is_file():
        raise UsageError(f"--model {args.model}: no such file")
    from .. import serving

    try:
        serving.check_serve_support()
    except ImportError as error:
        raise UsageError(f"mmer serve: {error}") from None
    from ..io import ModelFileError

    say(f"mmer serve: loading {args.model}")
    try:
        serving.serve(
            args.model,
            host=args.host,
            port=args.port,
            log_level="error" if args.quiet else "info",
            max_batch_size=args.max_batch_size,
            max_wait_ms=args.max_wait_ms,
            max_body_bytes=args.max_body_bytes,
            device=args.device,
        )
    except ModelFileError as error:
        if args.traceback:
            raise
        raise UsageError(f"--model {error}") from None
    except ValueError as error:  # a model that is not a classifier, say
        if args.traceback:
            raise
        raise UsageError(f"--model {args.model}: {error}") from None
    except KeyboardInterrupt:
        # uvicorn (0.29 and later) has shut down gracefully, the requests in
        # flight answered, and passed on the signal that stopped it; earlier
        # releases return instead. Either way the stop was the one asked for.
        pass
    say("mmer serve: stopped; the requests in flight were answered")
    return EXIT_OK
