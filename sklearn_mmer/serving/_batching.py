"""Micro-batching: requests that arrive together are predicted as one batch.

Each request puts its DataFrame on a queue and awaits its answers. One worker
takes the first request waiting, then those that join within ``max_wait_ms``
until the batch holds ``max_batch_size`` instances, predicts them in one call
on a thread of its own (so that the event loop keeps answering), and hands
each request its rows. A request larger than the batch is predicted alone,
never split. When a batch fails, each of its requests is predicted alone, so
that one request's failure is only its own.
"""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

logger = logging.getLogger("sklearn_mmer.serving")


class MicroBatcher:
    """Collects requests into batches for ``predict(X) -> list of answers``.

    Parameters
    ----------
    predict : callable
        Called with a DataFrame, returns one answer per row.
    max_batch_size : int
        The most instances in one batch.
    max_wait_ms : float
        How long the first request of a batch waits for others.
    on_batch : callable, default=None
        Called with each batch's number of instances (for the metrics).
    """

    def __init__(self, predict, *, max_batch_size, max_wait_ms, on_batch=None):
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.on_batch = on_batch
        self._queue = None
        self._worker = None
        # one thread: the model predicts one batch at a time
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mmer-predict")

    async def submit(self, X):
        """The answers for the rows of X, once its batch is predicted."""
        if self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((X, future))
        return await future

    def close(self):
        """Stop the worker and its thread (at the application's shutdown)."""
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self):
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0][0])
            deadline = time.monotonic() + self.max_wait
            while size < self.max_batch_size:
                timeout = deadline - time.monotonic()
                try:
                    if timeout > 0:
                        item = await asyncio.wait_for(self._queue.get(), timeout)
                    else:
                        item = self._queue.get_nowait()
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                if size + len(item[0]) > self.max_batch_size:
                    # it starts the next batch rather than overfill this one
                    await self._predict(batch, size)
                    batch, size = [item], len(item[0])
                    deadline = time.monotonic() + self.max_wait
                    continue
                batch.append(item)
                size += len(item[0])
            await self._predict(batch, size)

    async def _predict(self, batch, size):
        batch = [(X, future) for X, future in batch if not future.cancelled()]
        if not batch:
            return
        if self.on_batch is not None:
            self.on_batch(size)
        loop = asyncio.get_running_loop()
        X = pd.concat([X for X, _ in batch], ignore_index=True)
        try:
            answers = await loop.run_in_executor(self._executor, self.predict, X)
        except Exception:
            if len(batch) == 1:
                _settle(batch[0][1], error=True)
                return
            await self._one_by_one(batch)
            return
        start = 0
        for X, future in batch:
            _settle(future, answers[start : start + len(X)])
            start += len(X)

    async def _one_by_one(self, batch):
        loop = asyncio.get_running_loop()
        for X, future in batch:
            try:
                answers = await loop.run_in_executor(self._executor, self.predict, X)
            except Exception:
                _settle(future, error=True)
            else:
                _settle(future, answers)


def _settle(future, answers=None, *, error=False):
    if future.done():
        return
    if error:
        logger.exception("prediction failed")
        future.set_exception(PredictionError("the model failed on this input"))
    else:
        future.set_result(answers)


class PredictionError(RuntimeError):
    """The model raised on a request's input; logged, answered with a 500."""
