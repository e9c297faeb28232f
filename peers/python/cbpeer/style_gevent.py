"""gevent: the seed's green_threaded(): after gevent.monkey.patch_all() (peer.py
patches before anything else is imported), a greenlet per job (C = 0) or a
gevent.pool.Pool of C; the seed's blocking jobs, made cooperative by the patch (gevent-idiom: a keep-alive
connection per job, sync_world.JOBS_IDIOM).
spawn: the skynet tree with a greenlet per node."""
import gevent
import gevent.pool

from cbpeer import sync_world, work
from cbpeer.cell import now_ns, timed, unsupported


class _Tree:
    def __init__(self, fanout):
        self.fanout, self.created = fanout, 0


def _node(tree, first, count):
    if count == 1:
        return first
    kids = [gevent.spawn(_node, tree, f, c) for f, c in work.split(first, count, tree.fanout)]
    tree.created += len(kids)
    gevent.joinall(kids, raise_error=True)
    return sum(k.value for k in kids)


def run(cell):
    if cell.workload == "spawn":
        tree = _Tree(cell.p("fanout"))

        def job(c, i):
            root = gevent.spawn(_node, tree, 0, c.p("leaves"))
            tree.created += 1
            return root.get()

        t0 = now_ns()
        records = [timed(job, cell, i) for i in range(cell.tasks)]
        return t0, now_ns(), tree.created, "greenlets", records
    job = sync_world.jobs(cell.style).get(cell.workload) or unsupported(cell.style, cell.workload)
    t0 = now_ns()
    if cell.concurrency == 0:
        greenlets = [gevent.spawn(timed, job, cell, i) for i in range(cell.tasks)]
        gevent.wait(greenlets)  # the seed's gevent.wait(jobs)
        records = [g.value for g in greenlets]
    else:
        pool = gevent.pool.Pool(cell.in_flight())
        records = list(pool.imap_unordered(lambda i: timed(job, cell, i), range(cell.tasks)))
    return t0, now_ns(), cell.tasks, "greenlets", records
