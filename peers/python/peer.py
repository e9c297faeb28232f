#!/usr/bin/python3
"""concbench's Python peer (runtimes/peer/README.md): runs one cell in one style.

  peer.py STYLE --workload W --tasks N --concurrency C [--server URL] [--param K=V]...

STYLE: sync, threads, procs, gevent, asyncio, uvloop (as the seed writes them),
threads-idiom, gevent-idiom, asyncio-idiom, uvloop-idiom (idiomatic).
Started by concbench (runtimes/peer/peer.c), which reads its answer lines."""
import os
import sys

STYLES = ("sync", "threads", "procs", "gevent", "asyncio", "uvloop", "threads-idiom", "gevent-idiom", "asyncio-idiom",
          "uvloop-idiom")

if __name__ == "__main__":
    style = sys.argv[1] if len(sys.argv) > 1 else ""
    if style not in STYLES:
        sys.stderr.write("peer.py: STYLE must be one of: %s; got '%s'\n" % (", ".join(STYLES), style))
        sys.exit(2)
    if style.startswith("gevent"):  # the seed: patch before anything else is imported
        import gevent.monkey

        gevent.monkey.patch_all()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cbpeer import cell as cellmod

    cell = cellmod.Cell(sys.argv[1:])
    if cell.workload == "http" and not cell.server:
        cellmod.usage("--server is required for workload http")
    modname = {"sync": "style_sync", "threads": "style_threads", "procs": "style_procs", "gevent": "style_gevent"}.get(
        style.replace("-idiom", ""), "style_asyncio")
    mod = __import__("cbpeer." + modname, fromlist=["run"])
    t0, t1, created, kind, records = mod.run(cell)
    cellmod.emit(t0, t1, created, kind, records)
