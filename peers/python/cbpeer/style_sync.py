"""sync: the seed's simple_1/simple_2, jobs one after another."""
from cbpeer import sync_world
from cbpeer.cell import now_ns, timed, unsupported


def run(cell):
    job = sync_world.JOBS.get(cell.workload) or unsupported(cell.style, cell.workload)
    t0 = now_ns()
    records = [timed(job, cell, i) for i in range(cell.tasks)]
    return t0, now_ns(), 0, "none", records
