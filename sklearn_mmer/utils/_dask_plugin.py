"""The Dask worker plugin that sets torch's threads (imports ``distributed``)."""

from distributed import WorkerPlugin
from distributed.comm import get_address_host
from joblib import cpu_count


class TorchThreads(WorkerPlugin):
    """Set the torch threads of each fit on a Dask worker when it starts.

    A worker runs ``nthreads`` fits at a time, and a machine may run several
    workers; each fit gets ``cores // slots`` torch threads (at least one),
    where ``cores`` are the CPU cores the worker may use and ``slots`` the
    threads of all the workers on its machine. Registered with the client, the
    plugin also sets up workers that join or restart later.

    Parameters
    ----------
    threads : int or None, default=None
        Torch threads of each fit; None computes them as above.
    slots_per_host : dict of str to int or None, default=None
        Threads of all the workers of each host when the plugin was
        registered; a host not in it counts only the worker's own threads.
    """

    def __init__(self, threads=None, slots_per_host=None):
        self.threads = threads
        self.slots_per_host = dict(slots_per_host or {})

    def setup(self, worker):
        import torch

        torch.set_num_threads(self.threads_for(worker))

    def threads_for(self, worker):
        if self.threads is not None:
            return self.threads
        own = worker.state.nthreads
        slots = self.slots_per_host.get(get_address_host(worker.address), own)
        return max(1, cpu_count() // max(slots, own))
