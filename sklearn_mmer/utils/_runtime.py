"""The run: the package's version and the libraries', the threads a fit
computes with, Dask clusters, the progress display of a comparison, the
first line of an error, and what Ctrl-C does inside a fit.

The package's version lives here rather than in the package's ``__init__``: the
model files and the ``mmer`` command read it without importing the package
(whose ``__init__`` imports the model files' module when ``save`` or ``load``
is asked for: reading the version from there would close an import cycle). So
that ``import sklearn_mmer`` and ``mmer --help`` stay quick, this module imports
only the standard library at its top: joblib, threadpoolctl and ``distributed``
are imported by the functions that need them.
"""

import logging
import multiprocessing
import numbers
import os
import platform
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager, nullcontext
from importlib import metadata

#: The package's version (the model files and ``mmer --version`` read it).
__version__ = "0.1.0.dev0"


# --- the threads a fit computes with --------------------------------------------------

# Floating-point sums in torch and the BLAS libraries are split among their
# threads, and the order of the partial sums changes the last bits of the result
# (which then grow over the epochs of a network's training). A fit's arithmetic
# therefore depends on how many threads it has. If that number followed the
# number of fits run at a time (n_jobs, or a Dask cluster's workers), the same
# seed would give other scores with another n_jobs. Every fit a comparison,
# mmer fit or a tuned method's inner search runs is therefore given the same
# number of threads, DEFAULT_THREADS unless the user asks for another.

#: threads of each fit unless ``n_threads`` / ``--threads`` says otherwise
DEFAULT_THREADS = 1


def check_n_threads(n_threads):
    """``n_threads`` as an int (or None), or a ValueError naming it.

    Parameters
    ----------
    n_threads : int or None
        Threads each fit may use; None leaves every process's own settings
        (torch's and the BLAS libraries' defaults, which follow the CPU cores
        and the parallel backend), so that results may depend on where each fit
        runs.

    Returns
    -------
    n_threads : int or None
    """
    if n_threads is None:
        return None
    if (
        not isinstance(n_threads, numbers.Integral)
        or isinstance(n_threads, bool)
        or n_threads < 1
    ):
        raise ValueError(
            f"n_threads must be a positive int (or None to leave each process's "
            f"own thread settings); got {n_threads!r}"
        )
    return int(n_threads)


_CONTROLLER = {}


def _threadpool_controller():
    """threadpoolctl's view of the process's thread pools, made once per
    process and again only after an import.

    Making one goes through every shared library the process has loaded
    (tens of milliseconds once torch is in: a cost every fit would pay);
    a library that could bring a new pool comes only with an import.
    """
    from threadpoolctl import ThreadpoolController

    loaded = len(sys.modules)
    if _CONTROLLER.get("loaded") != loaded:
        _CONTROLLER.update(loaded=loaded, controller=ThreadpoolController())
    return _CONTROLLER["controller"]


@contextmanager
def fit_threads(n_threads):
    """Inside: torch and the BLAS/OpenMP pools use ``n_threads`` threads.

    Parameters
    ----------
    n_threads : int or None
        None changes nothing.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.utils._runtime import fit_threads
    >>> before = torch.get_num_threads()
    >>> with fit_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    # torch is set only where it is imported: every estimator that trains a
    # network imported it with its module, before its fit starts
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n_threads)
    try:
        with _threadpool_controller().limit(limits=n_threads):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


# --- running fits on a Dask cluster ---------------------------------------------------

# Everything that fits in parallel here (compare_methods, scikit-learn's
# GridSearchCV) runs through joblib.Parallel, so a Dask cluster serves them all
# once joblib's dask backend is active:
#
#     with dask_cluster("local:2"):              # or "tcp://scheduler:8786"
#         compare_methods(methods, X, y, groups, n_jobs=-1)
#
# What travels: the corpus (or the pooled views of it that the fits read), the
# labels and the folds go to the cluster once (to_workers); each task then
# carries only its estimator and references to them. Threads: each worker runs
# as many fits at a time as it has threads; the workers start with the torch
# threads asked for, or an equal share of their machine's cores (see
# _dask_plugin.TorchThreads), and compare_methods sets every fit's threads again
# while it runs (n_threads), so that its scores do not depend on the cluster.
#
# The distributed package is optional (pip install 'sklearn-mmer[dask]') and
# imported only when a cluster is asked for.

#: Seconds to wait for a scheduler to answer, or a local cluster to start.
CONNECT_TIMEOUT = 10

LOCAL = "local"


def parse_scheduler(scheduler):
    """``(address, n_workers)`` for a ``--scheduler`` value.

    ``"local"`` or ``"local:N"`` gives ``(None, N)`` (a new local cluster of N
    workers; one per CPU core without N); anything else is the address of a
    running scheduler, ``(scheduler, None)``.
    """
    text = str(scheduler).strip()
    if not text:
        raise ValueError(
            "scheduler must be 'local', 'local:N' or a scheduler address such as "
            "tcp://10.0.0.5:8786; got ''"
        )
    name, _, count = text.partition(":")
    if name != LOCAL:
        return text, None
    if not count:
        from joblib import cpu_count

        return None, cpu_count()
    try:
        n_workers = int(count)
    except ValueError:
        n_workers = 0
    if n_workers < 1 or str(n_workers) != count:
        raise ValueError(
            "the number of local workers must be a positive integer, as in "
            f"'local:4'; got {text!r}"
        )
    return None, n_workers


@contextmanager
def dask_client(scheduler, *, torch_threads=None, timeout=None):
    """Connect to a Dask scheduler, or start a local cluster; yield the Client.

    Parameters
    ----------
    scheduler : str
        ``"local:N"`` starts a :class:`distributed.LocalCluster` of N worker
        processes (one thread each) on 127.0.0.1, closed on exit; any other
        value is the address of a running scheduler.
    torch_threads : int or None, default=None
        Torch threads of each fit on the workers; None gives every fit on a
        machine an equal share of its cores (see :class:`TorchThreads`).
    timeout : float or None, default=None
        Seconds to wait for a running scheduler to answer and to have a
        worker; ``CONNECT_TIMEOUT`` when None.

    Raises
    ------
    ImportError
        ``distributed`` is not installed.
    ValueError
        A malformed ``scheduler``.
    OSError
        The scheduler did not answer, or had no worker, within ``timeout``
        seconds.
    """
    import asyncio

    address, n_workers = parse_scheduler(scheduler)
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    distributed = _import_distributed()
    with _quiet_shutdown():
        if address is None:
            cluster = _local_cluster(distributed, n_workers)
            client_context = distributed.Client(cluster, timeout=timeout)
        else:
            cluster = nullcontext()
            try:
                client_context = distributed.Client(address, timeout=timeout)
            except (OSError, TimeoutError, asyncio.TimeoutError):
                raise OSError(
                    f"no Dask scheduler answered at {address} within {timeout:g} "
                    "s; check the address and that 'dask scheduler' runs there, "
                    "or use local:N for a cluster on this machine"
                ) from None
        with cluster, client_context as client:
            if address is not None:
                _wait_for_a_worker(client, address, timeout)
            from ._dask_plugin import TorchThreads

            client.register_plugin(
                TorchThreads(torch_threads, _slots_per_host(client)),
                name="sklearn-mmer-torch-threads",
            )
            yield client


@contextmanager
def dask_cluster(scheduler, **kwargs):
    """:func:`dask_client`, with joblib's ``dask`` backend active inside.

    Every :class:`joblib.Parallel` run inside (``compare_methods``,
    ``GridSearchCV``, ``cross_validate``) sends its tasks to the cluster.
    """
    from joblib import parallel_config

    with (
        dask_client(scheduler, **kwargs) as client,
        parallel_config(backend="dask", client=client),
    ):
        yield client


def on_dask():
    """Whether joblib's active backend sends tasks to a Dask cluster."""
    from joblib.parallel import get_active_backend

    dask_backend = sys.modules.get("joblib._dask")
    backend, _ = get_active_backend()
    return dask_backend is not None and isinstance(
        backend, dask_backend.DaskDistributedBackend
    )


def to_workers(objects):
    """A function giving, for each of ``objects``, what a task should carry.

    Off a Dask cluster, each object itself (joblib's local backends
    memory-map large arrays by themselves). Under joblib's ``dask`` backend,
    a future of a task that returns the object: the object goes to the
    scheduler once, is computed on one worker and copied from worker to
    worker, and tasks carry only a reference to it. Unlike ``scatter``-ed
    data, a copy lost with a worker that dies is computed again from that
    task, so the run goes on.

    A cluster of a single worker thread is the exception: joblib then runs
    every task in the calling process, as for ``n_jobs=1``, where nothing
    would resolve a future, so each object is passed itself.

    Parameters
    ----------
    objects : iterable
        The large arguments shared by many tasks (a corpus, labels, folds).

    Returns
    -------
    share : callable
        ``share(obj)`` is what to pass to a task for ``obj``: its future, or
        ``obj`` itself when it is not one of ``objects`` or off a cluster.
    """
    if not on_dask():
        return _identity
    from joblib.parallel import get_active_backend

    backend = get_active_backend()[0]
    # joblib's dask backend counts the cluster's threads, whatever n_jobs says
    if backend.effective_n_jobs(-1) < 2:
        return _identity
    import dask

    client = backend.client
    shared = {}
    # the data go to the scheduler once, on purpose: no warning about it
    threshold = {"distributed.admin.large-graph-warning-threshold": "1 TiB"}
    with dask.config.set(threshold):
        for obj in objects:
            if id(obj) not in shared:
                shared[id(obj)] = obj, client.submit(_identity, obj, pure=False)

    def share(obj):
        kept = shared.get(id(obj))
        return obj if kept is None or kept[0] is not obj else kept[1]

    return share


def _identity(obj):
    return obj


def _local_cluster(distributed, n_workers):
    with warnings.catch_warnings():
        # the scheduler's HTTP endpoint moves to a free port when 8787 is
        # taken (by another cluster): nothing a user needs to hear about
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        return distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )


def _wait_for_a_worker(client, address, timeout):
    import asyncio

    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError, asyncio.TimeoutError):
        raise OSError(
            f"the Dask scheduler at {address} has no worker after {timeout:g} s; "
            f"start some with 'dask worker {address}'"
        ) from None


def _slots_per_host(client):
    """Threads of all the workers of each machine (by host), as now known."""
    from distributed.comm import get_address_host

    slots = {}
    for address, nthreads in client.ncores().items():
        host = get_address_host(address)
        slots[host] = slots.get(host, 0) + nthreads
    return slots


def _import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "running on a Dask cluster needs the 'distributed' package, which is "
            f"not installed ({first_line(error)}); install it with: "
            "pip install 'sklearn-mmer[dask]'"
        ) from None
    return distributed


@contextmanager
def _quiet_shutdown():
    """Keep the workers' exit chatter (closing comms, nanny restarts) off stderr."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.level, logging.ERROR))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


# --- versions and errors, in words ----------------------------------------------------


#: Seconds between two looks of a worker at whether its caller still runs.
WATCH_SECONDS = 0.5
_WATCHED = []


def end_with_caller(caller_pid):
    """In a worker process of the caller, end the process once the caller is gone.

    It lives here, among light imports, because a loky worker imports it to
    run it as its initializer: a worker that boots while its caller is killed
    then ends within a fraction of a second, not after the seconds importing
    the evaluation package takes.

    A loky worker waits for its next task for minutes (its idle timeout), and
    finishes the fit it holds first, even when the process that sent it was
    killed (SIGKILL gives it no chance to end its workers); until then it
    holds the resource tracker open, so the shared memory of the run stays in
    ``/dev/shm``. One daemon thread per worker watches its parent: when the
    worker is handed to another parent (the caller died), it ends the worker
    at once; a loky worker that gets its first task after the caller died
    ends then. A process that is not the caller's child (a Dask worker under
    its nanny, maybe on another machine) is left to its own supervisor.
    """
    if _WATCHED or os.getpid() == caller_pid:
        return
    if os.getppid() != caller_pid:
        if multiprocessing.current_process().name.startswith("LokyProcess"):
            os._exit(1)  # started by the caller, which is gone
        return
    _WATCHED.append(caller_pid)
    threading.Thread(
        target=_watch_parent, args=(caller_pid,), name="mmer-caller-watch", daemon=True
    ).start()


def _watch_parent(caller_pid):
    # the parent pid changes only when the parent ends, so no pid reuse fools it
    while os.getppid() == caller_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


# --- Ctrl-C ---------------------------------------------------------------------------


@contextmanager
def sigint_remembered(*, raise_now):
    """Take Ctrl-C over for the block and raise ``KeyboardInterrupt`` once it
    ends, if one came; with ``raise_now``, also where it lands.

    A Ctrl-C that came wins over an error the block raised after it: code
    that catches ``KeyboardInterrupt`` (skorch's fit) may then fail on what
    the interrupt left half done (a history without a finished epoch), and
    that error must not stand for the user's Ctrl-C.

    The SIGINT handler is swapped rather than the signal masked: a mask holds
    only for the calling thread, and the process's other threads (joblib's)
    would take the signal and have Python raise it all the same. Outside the
    main thread, where no handler can be set, nothing changes; nor where
    SIGINT is ignored (a background job of a shell script): a process
    started to ignore Ctrl-C keeps ignoring it, inside the block as outside.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        yield
        return
    interrupted = []

    def handler(signum, frame):
        interrupted.append(signum)
        if raise_now:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        if interrupted:
            raise KeyboardInterrupt from error
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


@contextmanager
def ctrl_c_stops_fit():
    """Inside, Ctrl-C raises ``KeyboardInterrupt`` out of the block even
    where the code in it catches it, as skorch's fit does.

    Only where Ctrl-C has Python's own meaning (its default handler, in the
    main thread); a handler the caller installed (a comparison's, which
    keeps a fold whole) or an ignored SIGINT is left to decide.
    """
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    with sigint_remembered(raise_now=True):
        yield


def versions(libraries):
    """The versions of ``libraries`` and of Python, by name.

    Parameters
    ----------
    libraries : iterable of str
        Distribution names (``"scikit-learn"``, not ``"sklearn"``). Each is
        read from the installed package's metadata, without importing it;
        ``"sklearn-mmer"`` is the version of the code that runs.

    Returns
    -------
    versions : dict of str to str or None
        ``library -> version`` in the order given (None when a library is not
        installed), then ``"python"``.
    """
    found = {}
    for name in libraries:
        if name == "sklearn-mmer":
            found[name] = __version__
            continue
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def first_line(error):
    """The first line of an error's message (its type's name when empty).

    Examples
    --------
    >>> from sklearn_mmer.utils._runtime import first_line
    >>> first_line(ValueError("bad value\\nmore detail"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


# --- progress --------------------------------------------------------------


class Progress:
    """A progress bar with elapsed time and ETA on a terminal (tqdm); one line
    per finished fold otherwise (a log, a pipe, a CI job).

    What ``compare_methods(progress=True)`` and ``mmer compare`` show. Called
    with each fold's record (see ``compare_methods``' ``progress``); ``say``
    writes the lines (to ``stream`` when None) and silences the bar when it
    has a true ``quiet`` attribute. The bar starts at the first record when
    :meth:`start` was not called.
    """

    def __init__(self, say=None, *, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.say = self._print if say is None else say
        self.bar = None
        self.n_finished = self.n_total = 0
        quiet = getattr(say, "quiet", False)
        self.terminal = not quiet and _is_terminal(self.stream)

    def _print(self, line):
        print(line, file=self.stream, flush=True)

    def start(self, total):
        """Show the bar (on a terminal) for ``total`` (method, repeat, fold)s."""
        self.n_total = total
        if self.terminal:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total, unit="fold", file=self.stream, dynamic_ncols=True
            )

    def __call__(self, record):
        self.n_finished, self.n_total = record["n_finished"], record["n_total"]
        line = fold_line(record)
        if self.bar is None and self.terminal:
            self.start(self.n_total)
        if self.bar is None:
            self.say(line)
            return
        self.bar.set_postfix_str(line, refresh=False)
        self.bar.update(record["n_finished"] - self.bar.n)

    def note(self, line):
        """A line of its own on stderr, above the bar when there is one."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            self.say(line)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def fold_line(record):
    """``[method] fold 2/5  f1_micro=0.612  (3.1 s)``, or the fold's error."""
    where = f"fold {record['fold']}/{record['n_folds']}"
    if record["n_repeats"] > 1:
        where = f"repeat {record['repeat']}/{record['n_repeats']} {where}"
    outcome = (
        f"failed: {record['error']}"
        if record["error"]
        else f"f1_micro={record['f1_micro']:.3f}"
    )
    return f"[{record['method']}] {where}  {outcome}  ({record['fit_seconds']:.1f} s)"


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress_display(progress):
    """``progress`` as a callable or None; True is :class:`Progress`, the
    progress of ``mmer compare``, closed on the way out."""
    if progress is None or progress is False:
        yield None
    elif progress is True:
        bar = Progress()
        try:
            yield bar
        finally:
            bar.close()
    elif callable(progress):
        yield progress
    else:
        raise ValueError(
            f"progress must be True, False, None or a callable; got {progress!r}"
        )
