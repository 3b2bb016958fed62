"""Where blocks of replications run: worker processes on this machine, or a Dask cluster.

Every command that simulates many days cuts its work into *blocks* (a contiguous range of
replications of one scenario, or of one (scenario, variant) pair) and hands them to an executor.
The executor decides only *where* a block runs, never *what* it computes: replication ``r`` of a
scenario always draws from child ``r`` of ``SeedSequence(seed)``, and the caller reassembles blocks
in replication order, so numbers are byte-identical whichever executor runs them and on how many
workers.

Choosing an executor (the Python API)
-------------------------------------
``run``, ``compare``, :func:`simulation.sweep.sweep` and anything built on
:func:`simulation.runner.iter_jobs` take ``executor=`` and ``scheduler=``:

- ``executor="processes"`` (default): ``workers`` local worker processes (1: in this process).
- ``executor="dask"``: a Dask cluster. With ``scheduler="tcp://host:8786"`` it connects to a running
  scheduler; without one it starts a ``distributed.LocalCluster`` of ``workers`` single-threaded
  worker *processes* for the call and closes it afterwards.
- an :class:`Executor` object: reused across calls (start a cluster once, run many stores on it);
  the caller closes it. Use it as a context manager::

      from simulation import load_scenario, run
      from simulation.executors import DaskExecutor

      with DaskExecutor(scheduler="tcp://127.0.0.1:8786") as ex:   # or DaskExecutor(workers=4)
          for path in halls:
              res = run(load_scenario(path), replications=100, executor=ex)

An executor's one job is :meth:`Executor.map_blocks`: ``fn(shared, block)`` for every block, with
``shared`` (the scenarios) shipped to each worker once — inherited by forked processes, broadcast with
``Client.scatter`` on Dask — and only the small ``block`` descriptions sent per task. It yields
``(index, result)`` as blocks finish and keeps a bounded number in flight, so the caller's memory
does not grow with the number of blocks. Stopping the iteration early, an error in a block, or
Ctrl+C (``KeyboardInterrupt``) cancels the pending blocks: local workers are killed at once, Dask
futures are cancelled.

Failures: a block that raises makes the whole call raise. A worker that dies is survived: Dask
recomputes the lost block on another worker; the process pool is restarted and the unfinished
blocks are resubmitted. Either way the result is unchanged, because a block's numbers depend only
on its scenario, seed and replication numbers.

Pure: nothing here prints or touches files; Dask's own log lines go to stderr through ``logging``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, TypeVar

B = TypeVar("B")
R = TypeVar("R")

EXECUTORS = ("processes", "dask")

# A pool restart after a worker died is cheap; a worker that dies on every start is not worth more.
POOL_RESTARTS = 3
# Retries of a Dask task whose code raised (a dead worker is rescheduled by Dask itself, not counted).
DASK_RETRIES = 1
# A block Dask dropped because its scattered scenarios died with a worker is resubmitted at most this often.
LOST_BLOCK_RESUBMITS = 3
# Seconds to wait for a Dask scheduler to answer / for the first worker to join it.
CONNECT_TIMEOUT_S = 5.0
WORKER_WAIT_S = 30.0


class ExecutorError(RuntimeError):
    """The executor could not be set up (no scheduler at that address, no workers, unknown name)."""


class Executor(ABC):
    """Runs ``fn(shared, block)`` for many blocks. See the module docstring for the contract."""

    name: str = "executor"

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many blocks can run at once (worker processes, or Dask worker threads)."""

    @abstractmethod
    def map_blocks(
        self, fn: Callable[[Any, B], R], shared: Any, blocks: Sequence[B]
    ) -> Iterator[tuple[int, R]]:
        """Yield ``(i, fn(shared, blocks[i]))`` for every block, in completion order.

        ``fn`` must be a module-level function (it is sent by reference); ``shared`` is sent to each
        worker once; each block should be small (a few numbers). Closing the iterator early, or an
        exception (including ``KeyboardInterrupt``) while it runs, cancels the blocks not yet done.
        """

    def close(self) -> None:  # noqa: B027 - most executors hold nothing between calls
        """Release workers and connections this executor started (idempotent)."""

    def abort(self) -> None:
        """Release everything now, not gracefully (after Ctrl+C): by default the same as :meth:`close`."""
        self.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.abort()
        else:
            self.close()


# ---------------------------------------------------------------------------------------------
# local worker processes
# ---------------------------------------------------------------------------------------------

# The shared data of the pool this worker process belongs to (set once per worker by the initializer).
_WORKER_SHARED: Any = None


def _init_worker(shared: Any) -> None:
    global _WORKER_SHARED
    _WORKER_SHARED = shared
    # Ctrl+C reaches the whole process group: the parent alone decides what to do (cancel and kill us);
    # a worker catching it would only abandon its current block and start the next one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call_in_worker(fn: Callable[[Any, B], R], block: B) -> R:
    return fn(_WORKER_SHARED, block)


def _window(workers: int) -> int:
    """Blocks kept in flight: enough to keep every worker busy, few enough to cancel fast."""
    return max(2, 2 * workers)


def _ahead(workers: int) -> int:
    """How far past the oldest unfinished block a new block may start.

    Callers reassemble results in block order, so blocks that finish early wait in the caller's
    memory until the older ones are done; bounding the distance bounds that memory, whatever the
    number of blocks (a sweep of 10,000 variants holds as little as one of 100).
    """
    return 8 * _window(workers)


class ProcessExecutor(Executor):
    """``workers`` local worker processes (1: run in this process, no pool at all).

    A pool is started per :meth:`map_blocks` call, with ``shared`` handed to each worker once (on
    Linux the workers are forked, so the scenarios are not even pickled).
    """

    name = "processes"

    def __init__(self, workers: int | None = 1) -> None:
        self._workers = int(workers) if workers else (os.cpu_count() or 1)

    @property
    def workers(self) -> int:
        return self._workers

    def map_blocks(
        self, fn: Callable[[Any, B], R], shared: Any, blocks: Sequence[B]
    ) -> Iterator[tuple[int, R]]:
        if self._workers <= 1 or len(blocks) <= 1:
            for i, block in enumerate(blocks):
                yield i, fn(shared, block)
            return
        yield from self._pooled(fn, shared, blocks)

    def _pool(self, shared: Any, n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=_start_method(), initializer=_init_worker, initargs=(shared,))

    def _pooled(self, fn: Callable[[Any, B], R], shared: Any, blocks: Sequence[B]) -> Iterator[tuple[int, R]]:
        n_workers = min(self._workers, len(blocks))
        window, ahead = _window(n_workers), _ahead(n_workers)
        todo = list(range(len(blocks)))  # not yet submitted, in order (a restart puts lost ones back)
        restarts = 0
        pool = self._pool(shared, n_workers)
        running: dict[Future[R], int] = {}
        try:
            while todo or running:
                lowest = min([*running.values(), todo[0]] if todo else running.values())
                while todo and len(running) < window and todo[0] < lowest + ahead:
                    i = todo.pop(0)
                    running[pool.submit(_call_in_worker, fn, blocks[i])] = i
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for f in sorted(done, key=lambda f: running[f]):
                    i = running.pop(f)
                    try:
                        result = f.result()
                    except BrokenProcessPool:
                        todo.append(i)
                        broken = True
                        continue
                    yield i, result
                if broken:
                    # A worker died (killed, out of memory): every block in flight is lost with the pool.
                    restarts += 1
                    if restarts > POOL_RESTARTS:
                        raise ExecutorError(f"worker processes died {restarts} times; giving up")
                    todo = sorted(set(todo) | set(running.values()))
                    running.clear()
                    _kill(pool)
                    pool = self._pool(shared, n_workers)
        except BaseException:
            # Ctrl+C, an error in a block, or the caller closing us early: nothing more is wanted.
            _kill(pool)
            raise
        else:
            pool.shutdown(wait=True)


def _start_method() -> Any:
    """How to start worker processes: ``fork`` on Linux (milliseconds, everything already imported),
    the platform's default elsewhere. Results never depend on it: the seed tree fixes every number.

    A forkserver (safer beside other threads) was tried and reverted: under load, Ctrl+C on the CLI
    could leave the interrupted run waiting on its pool for over a minute.
    """
    return mp.get_context("fork") if sys.platform.startswith("linux") else None


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what is queued and kill the workers mid-block (their work is discarded)."""
    # ProcessPoolExecutor has no public "kill" before Python 3.14 (terminate_workers); its process
    # table is the documented-by-use way to reach the workers.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    for p in procs:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(timeout=1)
    # Let the pool's manager thread see its dead workers and close its wake-up pipe now: on Python
    # 3.11, should that close race the interpreter's exit-time wake-up of the same pipe, a
    # "Bad file descriptor" traceback is printed after storeq's own "interrupted" line.
    if manager is not None and manager.is_alive():
        manager.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------------------------


class DaskExecutor(Executor):
    """Blocks as Dask tasks, on a running scheduler or on a ``LocalCluster`` started here.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://10.0.0.5:8786``). Its workers must have storeq
        installed (they import ``simulation`` to run a block).
    workers : int, optional
        Without ``scheduler``: worker processes of the local cluster (one thread each, since a
        simulation holds the GIL). Ignored with ``scheduler``.
    client : distributed.Client, optional
        An existing client to use instead (not closed by :meth:`close`).

    The cluster is started on first use and closed by :meth:`close` (or leaving the ``with``).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None, client: Any = None) -> None:
        self.scheduler = scheduler
        self._n_local = max(1, int(workers)) if workers else max(1, os.cpu_count() or 1)
        self._client = client
        self._own_client = client is None
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (connects, or starts the local cluster, on first use)."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - distributed is a dependency
            raise ExecutorError(f"the dask executor needs the 'distributed' package ({exc})") from exc
        if self.scheduler is None:
            # processes, not threads: a simulation holds the GIL, so threads would not run in parallel
            self._cluster = LocalCluster(
                n_workers=self._n_local,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            return Client(self._cluster, set_as_default=False)
        try:
            client = Client(self.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ExecutorError(
                f"--scheduler {self.scheduler}: no Dask scheduler answered within {CONNECT_TIMEOUT_S:g} s "
                f"(start one with `dask scheduler`; {type(exc).__name__}: {exc})"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except (TimeoutError, OSError):
            client.close()
            raise ExecutorError(
                f"--scheduler {self.scheduler}: the scheduler has no workers after {WORKER_WAIT_S:g} s "
                f"(start some with `dask worker {self.scheduler}`)"
            ) from None
        return client

    @property
    def workers(self) -> int:
        threads = self.client.nthreads()
        return max(1, sum(threads.values()))

    def map_blocks(
        self, fn: Callable[[Any, B], R], shared: Any, blocks: Sequence[B]
    ) -> Iterator[tuple[int, R]]:
        if not blocks:
            return
        from distributed import as_completed

        client = self.client
        # Ship the scenarios once per worker: the tasks then carry only a reference to them.
        shared_f = client.scatter(shared, broadcast=True, hash=False)
        tag = uuid.uuid4().hex[:8]
        n_workers = self.workers
        window, ahead = _window(n_workers), _ahead(n_workers)
        nxt = 0  # the next block to submit
        running: dict[str, tuple[int, Any]] = {}  # key → (block, future)
        ac = as_completed(loop=client.loop)

        def top_up() -> None:
            nonlocal nxt
            lowest = min((i for i, _ in running.values()), default=nxt)
            while nxt < len(blocks) and len(running) < window and nxt < lowest + ahead:
                f = client.submit(
                    fn, shared_f, blocks[nxt], key=f"storeq-block-{tag}-{nxt}", pure=False, retries=DASK_RETRIES
                )
                running[f.key] = (nxt, f)
                ac.add(f)
                nxt += 1

        lost: dict[int, int] = {}  # block → times resubmitted after Dask dropped it
        scattered: list[Any] = []  # earlier copies of the scenarios, lost with a worker
        try:
            top_up()
            for f in ac:
                i, _ = running[f.key]
                try:
                    result = f.result()  # a block that raised (after retries) re-raises here
                except CancelledError:
                    # Not cancelled by us (that is the except below): the scheduler dropped the block
                    # because the scenarios it needs were lost with a dead worker (Dask keeps one copy
                    # of scattered data once it sees no use for more). Ship them again, resubmit.
                    lost[i] = lost.get(i, 0) + 1
                    if lost[i] > LOST_BLOCK_RESUBMITS:
                        raise ExecutorError(f"Dask dropped block {i} {lost[i]} times (workers dying?); giving up") from None
                    del running[f.key]
                    if any(x.status != "finished" for x in _futures(shared_f)):  # once per loss, not per block
                        scattered.append(shared_f)
                        shared_f = client.scatter(shared, broadcast=True, hash=False)
                    g = client.submit(
                        fn, shared_f, blocks[i], key=f"storeq-block-{tag}-{i}-r{lost[i]}", pure=False, retries=DASK_RETRIES
                    )
                    running[g.key] = (i, g)
                    ac.add(g)
                    continue
                del running[f.key]
                f.release()
                top_up()
                yield i, result
        except BaseException:
            # Ctrl+C, an error, or the caller stopped early: cancel what is still queued or running.
            if running:
                client.cancel([f for _, f in running.values()], force=True)
            raise
        finally:
            client.cancel([x for sf in (*scattered, shared_f) for x in _futures(sf)], force=True)

    def abort(self) -> None:
        """After Ctrl+C: kill the local cluster's workers mid-block instead of waiting for their blocks.

        A graceful close waits for the running blocks (seconds each); the person asked to stop now.
        The futures were already cancelled, so nothing of value is lost. A remote cluster's workers
        are left alone: they drop the cancelled blocks themselves.
        """
        if self._cluster is not None:
            for nanny in list(getattr(self._cluster, "workers", {}).values()):
                pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
                if pid:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None if self._own_client else self._client
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


# ---------------------------------------------------------------------------------------------
# choosing one
# ---------------------------------------------------------------------------------------------


def _futures(scattered: Any) -> list[Any]:
    """The futures of what ``client.scatter`` returned (one future, or one per item of a list/tuple/dict)."""
    if isinstance(scattered, dict):
        return list(scattered.values())
    if isinstance(scattered, list | tuple):
        return list(scattered)
    return [scattered]


def make_executor(executor: str | Executor = "processes", scheduler: str | None = None, workers: int | None = 1) -> Executor:
    """An :class:`Executor` from a name (``processes`` or ``dask``) and its options; objects pass through."""
    if isinstance(executor, Executor):
        return executor
    if executor == "processes":
        if scheduler is not None:
            raise ValueError(f"scheduler={scheduler!r} needs executor='dask' (worker processes are always local)")
        return ProcessExecutor(workers)
    if executor == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)} or an Executor, got {executor!r}")


class _Borrowed:
    """Context manager: an executor made here is closed on exit; one passed in is left open."""

    def __init__(self, executor: str | Executor, scheduler: str | None, workers: int | None) -> None:
        self._given = isinstance(executor, Executor)
        self._ex = make_executor(executor, scheduler, workers)

    def __enter__(self) -> Executor:
        return self._ex

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._given:
            self._ex.__exit__(exc_type, exc, tb)


def using(executor: str | Executor = "processes", scheduler: str | None = None, workers: int | None = 1) -> _Borrowed:
    """``with using(executor, scheduler, workers) as ex:`` — closes only what it started."""
    return _Borrowed(executor, scheduler, workers)


def plan_blocks(sizes: Iterable[int], workers: int, per_worker: int = 4) -> list[tuple[int, range]]:
    """Cut jobs of ``sizes[j]`` replications into ``(job, replications)`` blocks.

    About ``per_worker`` blocks per worker in all (so a slow block does not idle the others and a
    lost worker costs little), never splitting a job finer than needed: many small jobs (a sweep's
    variants) stay one block each, one big job (a run) is cut into near-equal ranges. The plan
    changes only the grouping, never a replication's numbers.
    """
    sizes = [int(n) for n in sizes]
    total = sum(sizes)
    if total == 0:
        return []
    target = max(1, -(-total // max(1, workers * per_worker)))  # ceil: replications per block
    out: list[tuple[int, range]] = []
    for j, n in enumerate(sizes):
        if n <= 0:
            continue
        k = -(-n // target)
        edges = [round(i * n / k) for i in range(k + 1)]
        out.extend((j, range(edges[i], edges[i + 1])) for i in range(k) if edges[i + 1] > edges[i])
    return out
