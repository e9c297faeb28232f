"""The cell a peer runs and the lines it answers with (runtimes/peer/README.md).

Command line (written by runtimes/peer/peer.c, never by a user):
  peer.py STYLE --workload W --tasks N --concurrency C [--server URL] [--param K=V]...
C = 0 means one execution unit per job. Every parameter of the workload is given.

Output, after the job phase, on stdout (one record a line):
  concbench-peer 1
  phase START_NS END_NS             CLOCK_MONOTONIC, the job phase only
  created COUNT KIND                execution units made
  job I RESULT_HEX START_NS END_NS  job I produced RESULT
  fail I START_NS END_NS MESSAGE    job I failed (one line)
Bad arguments: one line on stderr, exit 2. A workload this style has no version
of: exit 4."""
import ctypes
import os
import signal
import sys
import time

EXIT_USAGE = 2
EXIT_UNSUPPORTED = 4


def usage(msg):
    sys.stderr.write("peer.py: %s\n" % msg)
    sys.exit(EXIT_USAGE)


class Cell:
    def __init__(self, argv):
        if len(argv) < 1:
            usage("expected STYLE --workload W --tasks N --concurrency C ...")
        self.style = argv[0]
        self.workload = None
        self.tasks = None
        self.concurrency = 0
        self.server = None
        self.params = {}
        k = 1
        while k < len(argv):
            a = argv[k]
            if k + 1 >= len(argv):
                usage("%s needs a value" % a)
            v = argv[k + 1]
            k += 2
            if a == "--workload":
                self.workload = v
            elif a == "--tasks":
                self.tasks = self._int(a, v, 1)
            elif a == "--concurrency":
                self.concurrency = self._int(a, v, 0)
            elif a == "--server":
                self.server = v
            elif a == "--param":
                name, eq, val = v.partition("=")
                if not eq or not name:
                    usage("--param: expected NAME=VALUE, got '%s'" % v)
                self.params[name] = self._int("--param " + name, val, -(1 << 63))
            else:
                usage("unknown argument '%s'" % a)
        if self.workload is None or self.tasks is None:
            usage("--workload and --tasks are required")

    @staticmethod
    def _int(name, v, lo):
        try:
            n = int(v, 10)
        except ValueError:
            n = None
        if n is None or n < lo:
            usage("%s: expected an integer >= %d, got '%s'" % (name, lo, v))
        return n

    def p(self, name):
        if name not in self.params:
            usage("--param %s is required for workload %s" % (name, self.workload))
        return self.params[name]

    def in_flight(self):
        """Jobs in flight at most: min(C, N), or N when C is 0 (cb_spec_concurrency)."""
        return self.tasks if self.concurrency == 0 else min(self.concurrency, self.tasks)


PR_SET_PDEATHSIG = 1


def die_with_parent(parent):
    """In a child process (a multiprocessing worker): SIGKILL when the peer dies,
    however it dies, as common/child.h's cb_die_with_parent; exits at once if the
    peer (pid `parent`) is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
        os._exit(127)


def now_ns():
    return time.monotonic_ns()  # CLOCK_MONOTONIC on Linux, as cb_now_ns


def timed(fn, cell, i):
    """Runs fn(cell, i) -> result and returns its record (i, ok, result or message,
    start_ns, end_ns)."""
    start = now_ns()
    try:
        r = fn(cell, i)
        return (i, True, r, start, now_ns())
    except Exception as e:  # a job's failure is its record, not the peer's end
        return (i, False, "%s: %s" % (type(e).__name__, e), start, now_ns())


def emit(phase_start, phase_end, created, kind, records):
    out = ["concbench-peer 1", "phase %d %d" % (phase_start, phase_end), "created %d %s" % (created, kind)]
    for i, ok, r, s, e in records:
        if ok:
            out.append("job %d %016x %d %d" % (i, r, s, e))
        else:
            msg = " ".join(str(r).split())[:200] or "failed"
            out.append("fail %d %d %d %s" % (i, s, e, msg))
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def unsupported(style, workload):
    sys.stderr.write("peer.py: style %s has no version of workload %s\n" % (style, workload))
    sys.exit(EXIT_UNSUPPORTED)
