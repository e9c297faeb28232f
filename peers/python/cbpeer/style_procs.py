"""procs: the seed's multiprocessed(): a multiprocessing.Process per job (C = 0),
or a multiprocessing.Pool of C workers. Every child asks the kernel to kill it
when the peer dies (PR_SET_PDEATHSIG, as common/child.h does for the C models).
No spawn: a process per skynet node is the procs model's, limited to small trees."""
import multiprocessing
import os

from cbpeer import sync_world
from cbpeer.cell import die_with_parent, now_ns, timed, unsupported


def _one(job, cell, i, queue, parent):
    die_with_parent(parent)
    queue.put(timed(job, cell, i))


class _Worker:
    """A pool worker's job: picklable, so the pool can send it."""

    def __init__(self, job, cell):
        self.job, self.cell = job, cell

    def __call__(self, i):
        return timed(self.job, self.cell, i)


def run(cell):
    job = sync_world.JOBS.get(cell.workload) or unsupported(cell.style, cell.workload)
    ctx = multiprocessing.get_context("fork")
    parent = os.getpid()
    t0 = now_ns()
    if cell.concurrency == 0:  # the seed: a process per job, all started, then joined
        queue = ctx.SimpleQueue()
        procs = [ctx.Process(target=_one, args=(job, cell, i, queue, parent)) for i in range(cell.tasks)]
        for p in procs:
            p.start()
        records = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        created = cell.tasks
    else:
        with ctx.Pool(cell.in_flight(), initializer=die_with_parent, initargs=(parent,)) as pool:
            records = list(pool.imap_unordered(_Worker(job, cell), range(cell.tasks)))
        created = cell.in_flight()
    return t0, now_ns(), created, "processes", records
