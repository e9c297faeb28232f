"""threads: the seed's threaded(): a threading.Thread per job (C = 0), or a
ThreadPoolExecutor of C threads; threads-idiom: the same with a keep-alive
connection per job (sync_world.JOBS_IDIOM). spawn: the skynet tree with a thread per node,
each node starting its children and joining them."""
import threading
from concurrent.futures import ThreadPoolExecutor

from cbpeer import sync_world, work
from cbpeer.cell import now_ns, timed, unsupported


class _Tree:
    def __init__(self, fanout):
        self.fanout, self.created, self.lock = fanout, 0, threading.Lock()


def _node(tree, first, count, out, slot):
    if count == 1:
        out[slot] = first
        return
    parts = work.split(first, count, tree.fanout)
    sums = [0] * len(parts)
    kids = [threading.Thread(target=_node, args=(tree, f, c, sums, j)) for j, (f, c) in enumerate(parts)]
    for t in kids:
        t.start()
    with tree.lock:
        tree.created += len(kids)
    for t in kids:
        t.join()
    out[slot] = sum(sums)


def _spawn_job(tree):
    def job(cell, i):
        out = [0]
        root = threading.Thread(target=_node, args=(tree, 0, cell.p("leaves"), out, 0))
        root.start()
        with tree.lock:
            tree.created += 1
        root.join()
        return out[0]
    return job


def run(cell):
    if cell.workload == "spawn":
        tree = _Tree(cell.p("fanout"))
        job = _spawn_job(tree)
        t0 = now_ns()
        records = [timed(job, cell, i) for i in range(cell.tasks)]  # one tree after another
        return t0, now_ns(), tree.created, "threads", records
    job = sync_world.jobs(cell.style).get(cell.workload) or unsupported(cell.style, cell.workload)
    records = [None] * cell.tasks
    t0 = now_ns()
    if cell.concurrency == 0:  # the seed: a thread per job, all started, then joined

        def one(i):
            records[i] = timed(job, cell, i)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(cell.tasks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created = cell.tasks
    else:
        with ThreadPoolExecutor(max_workers=cell.in_flight()) as pool:
            records = list(pool.map(lambda i: timed(job, cell, i), range(cell.tasks)))
        created = cell.in_flight()
    return t0, now_ns(), created, "threads", records
