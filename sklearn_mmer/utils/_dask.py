"""Running fits on a Dask cluster through joblib's ``dask`` backend.

Everything that fits in parallel here (``compare_methods``, scikit-learn's
``GridSearchCV``) runs through :class:`joblib.Parallel`, so a Dask cluster
serves them all once joblib's ``dask`` backend is active::

    with dask_cluster("local:2"):              # or "tcp://scheduler:8786"
        compare_methods(methods, X, y, groups, n_jobs=-1)

What travels: the corpus (or the pooled views of it that the fits read), the
labels and the folds go to the cluster once (:func:`to_workers`); each task
then carries only its estimator and references to them. Threads: each worker runs
as many fits at a time as it has threads; the workers start with the torch
threads asked for, or an equal share of their machine's cores (see
:class:`TorchThreads`), and ``compare_methods`` sets every fit's threads again
while it runs (``n_threads``), so that its scores do not depend on the cluster.

The ``distributed`` package is optional (``pip install 'sklearn-mmer[dask]'``)
and imported only when a cluster is asked for.
"""

import asyncio
import logging
import sys
import warnings
from contextlib import contextmanager, nullcontext

from joblib import cpu_count, parallel_config
from joblib.parallel import get_active_backend

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
    with (
        dask_client(scheduler, **kwargs) as client,
        parallel_config(backend="dask", client=client),
    ):
        yield client


def on_dask():
    """Whether joblib's active backend sends tasks to a Dask cluster."""
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
            f"not installed ({_first_line(error)}); install it with: "
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


def _first_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
