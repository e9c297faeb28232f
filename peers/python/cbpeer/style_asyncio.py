"""asyncio, uvloop and their idiomatic variants.

As the seed writes it (styles asyncio, uvloop): asyncio.gather of a coroutine per
job (C > 0: at most C at once, an asyncio.Semaphore); pow through
loop.run_in_executor(None, ...) (the default thread pool, so the GIL serialises
it); http with a new aiohttp.ClientSession per job, its URLs one after another on
that session; sleep as asyncio.sleep. uvloop: the same on uvloop's loop.

Idiomatic (styles asyncio-idiom, uvloop-idiom): one ClientSession for the whole
run (its connector unlimited, or C connections), and pow in a
ProcessPoolExecutor, which is how CPU work leaves the loop without the GIL.
spawn (every style): the skynet tree with a task per node."""
import asyncio
import concurrent.futures
import multiprocessing
import os

from cbpeer import sync_world, work
from cbpeer.cell import die_with_parent, now_ns, unsupported


async def _timed(coro_fn, cell, i):
    start = now_ns()
    try:
        r = await coro_fn(cell, i)
        return (i, True, r, start, now_ns())
    except Exception as e:
        return (i, False, "%s: %s" % (type(e).__name__, e), start, now_ns())


async def _fetch_all(session, cell, i):
    import aiohttp

    per_job, acc = cell.p("requests"), 0
    timeout = aiohttp.ClientTimeout(total=cell.p("delay_ms") / 1000 + 30)
    for k in range(per_job):
        url = work.http_url(cell.server, cell.params, work.http_seed(i, k, per_job))
        async with session.get(url, timeout=timeout) as resp:
            data = await resp.read()
            acc = work.http_combine(acc, work.check_body(url, resp.status, data, cell.p("bytes")))
    return acc


class _Run:
    def __init__(self, cell, idiom):
        self.cell, self.idiom, self.created = cell, idiom, 0
        self.session = None
        self.executor = None

    async def pow_job(self, cell, i):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, sync_world.pow_job, cell, i)

    async def http_job(self, cell, i):
        if self.session is not None:  # idiomatic: the run's one session
            return await _fetch_all(self.session, cell, i)
        import aiohttp

        async with aiohttp.ClientSession() as session:  # the seed: a session per job
            return await _fetch_all(session, cell, i)

    async def sleep_job(self, cell, i):
        ms = cell.p("ms")
        start = now_ns()
        end = start
        while end - start < ms * 1000000:  # a timer that fires early sleeps on
            await asyncio.sleep((ms * 1000000 - (end - start)) / 1e9)
            end = now_ns()
        work.sleep_check(start, end, ms)
        return work.sleep_result(i)

    async def node(self, first, count, fanout):
        if count == 1:
            return first
        kids = [asyncio.create_task(self.node(f, c, fanout)) for f, c in work.split(first, count, fanout)]
        self.created += len(kids)
        return sum(await asyncio.gather(*kids))

    async def spawn_job(self, cell, i):
        root = asyncio.create_task(self.node(0, cell.p("leaves"), cell.p("fanout")))
        self.created += 1
        return await root

    async def main(self):
        cell = self.cell
        job = {"pow": self.pow_job, "http": self.http_job, "sleep": self.sleep_job}.get(cell.workload)
        if self.idiom and cell.workload == "http":
            import aiohttp

            limit = 0 if cell.concurrency == 0 else cell.in_flight()
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))
        if self.idiom and cell.workload == "pow":
            self.executor = concurrent.futures.ProcessPoolExecutor(
                min(cell.in_flight(), os.cpu_count() or 1), mp_context=multiprocessing.get_context("fork"),
                initializer=die_with_parent, initargs=(os.getpid(),))
        try:
            t0 = now_ns()
            if cell.workload == "spawn":  # one tree after another
                records = [await _timed(self.spawn_job, cell, i) for i in range(cell.tasks)]
                return t0, now_ns(), self.created, "tasks", records
            if cell.concurrency == 0:
                coros = [_timed(job, cell, i) for i in range(cell.tasks)]
            else:
                sem = asyncio.Semaphore(cell.in_flight())

                async def bounded(fn, c, i):
                    async with sem:
                        return await fn(c, i)

                coros = [_timed(lambda c, i: bounded(job, c, i), cell, i) for i in range(cell.tasks)]
            records = await asyncio.gather(*coros)
            return t0, now_ns(), cell.tasks, "tasks", records
        finally:
            if self.session is not None:
                await self.session.close()
            if self.executor is not None:
                self.executor.shutdown()


def run(cell):
    if cell.workload not in ("pow", "http", "sleep", "spawn"):
        unsupported(cell.style, cell.workload)
    idiom = cell.style.endswith("-idiom")
    if cell.style.startswith("uvloop"):
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_Run(cell, idiom).main())
    finally:
        loop.close()
