"""A small process pool: (setup, job, work, tasks, jobs) in, each task's result out, in completion order.

Each worker calls setup(job) once (e.g. to prepare the plan) and then work(state, task) per task, so the job
(plan, key, identifier map) crosses the process boundary once per worker, not once per task. With the fork
start method it is not even pickled. Tasks travel in small batches and results come back a batch at a time,
so the queues' locks and wake-ups cost little next to the work. Workers exit when the parent dies, so a
killed run leaves no orphans. What exists when the workers start is first frozen out of the garbage
collector (gc.freeze, as the gc documentation advises before fork), so the workers' collections skip the
inherited heap (pydicom's dictionaries, the plan) instead of walking it again and again.
jobs <= 1 runs everything in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
POLL_SECONDS = 0.5
MAX_BATCH = 16
BATCHES_PER_WORKER = 8  # enough batches that the workers finish close together


def run_tasks(
    setup: Callable[[Any], Any],
    job: Any,
    work: Callable[[Any, T], R],
    tasks: Sequence[T],
    jobs: int,
) -> Iterator[R]:
    """Yield work(setup(job), task) for every task; with jobs > 1 in worker processes, in completion order.

    When a worker process dies mid-task, the results of its unfinished batch are simply never yielded;
    the caller accounts for the missing ones.
    """
    jobs = max(1, min(jobs, len(tasks)))
    if jobs == 1:
        state = setup(job)
        for task in tasks:
            yield work(state, task)
        return
    yield from _run_in_processes(setup, job, work, tasks, jobs)


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _run_in_processes(setup: Callable[[Any], Any], job: Any, work: Callable[[Any, T], R],
                      tasks: Sequence[T], jobs: int) -> Iterator[R]:
    context = _context()
    task_queue = context.Queue()
    result_queue = context.Queue()
    workers = [
        context.Process(target=_worker, args=(setup, job, work, task_queue, result_queue, os.getpid()), daemon=True)
        for _ in range(jobs)
    ]
    gc.freeze()
    try:
        for worker in workers:
            worker.start()
    finally:
        gc.unfreeze()  # only the workers' copies stay frozen
    try:
        size = max(1, min(MAX_BATCH, len(tasks) // (jobs * BATCHES_PER_WORKER)))
        for start in range(0, len(tasks), size):
            task_queue.put(list(tasks[start:start + size]))
        for _ in workers:
            task_queue.put(None)
        for batch in _collect(result_queue, workers, -(-len(tasks) // size)):
            yield from batch
    finally:
        _stop(workers)
        task_queue.cancel_join_thread()
        result_queue.cancel_join_thread()


def _collect(result_queue: Any, workers: list[Any], expected: int) -> Iterator[Any]:
    received = 0
    while received < expected:
        try:
            result = result_queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                return
            continue
        received += 1
        yield result


def _stop(workers: list[Any]) -> None:
    for worker in workers:
        worker.join(timeout=POLL_SECONDS)
        if worker.is_alive():
            worker.terminate()
            worker.join()


def _worker(setup: Callable[[Any], Any], job: Any, work: Callable[[Any, Any], Any],
            task_queue: Any, result_queue: Any, parent: int) -> None:
    state = setup(job)
    while True:
        try:
            batch = task_queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:
                return
            continue
        if batch is None or os.getppid() != parent:
            return
        result_queue.put([work(state, task) for task in batch])
