/* peers.c — the peers, in the order `concbench list` shows them, and where their
 * programs are (runtimes/peer/README.md).
 *
 * Python peers run /usr/bin/python3 (CONCBENCH_PEER_PYTHON overrides it) on
 * peers/python/peer.py, which the Makefile copies next to bin/concbench; a module
 * counts as installed when Debian's package put it under /usr/lib/python3/
 * dist-packages (a cheap check, no interpreter started). The Go peer is
 * bin/peers/concbench-peer-go, built by the Makefile when Go is installed
 * (CONCBENCH_PEER_GO overrides it). CONCBENCH_PEERS_DIR overrides the folder. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "runtimes/peer/peer_int.h"

#define PYTHON "/usr/bin/python3"
#define DIST_PACKAGES "/usr/lib/python3/dist-packages"

static const cb_peer_module gevent_mods[] = {{"gevent", "python3-gevent"}, {NULL, NULL}};
static const cb_peer_module aiohttp_mods[] = {{"aiohttp", "python3-aiohttp"}, {NULL, NULL}};
static const cb_peer_module uvloop_mods[] = {{"aiohttp", "python3-aiohttp"}, {"uvloop", "python3-uvloop"}, {NULL, NULL}};

/* Each peer: its table entry, its run and its model. */
#define PEER(id, name_, summary_, ...)                                                              \
  static const cb_peer peer_##id = {__VA_ARGS__};                                                   \
  static int run_##id(const cb_run_spec *spec, cb_run_report *report) {                             \
    return cb__peer_run(&peer_##id, spec, report);                                                  \
  }                                                                                                 \
  static int available_##id(char *why, size_t cap) {                                                \
    char a[PATH_MAX], s[PATH_MAX];                                                                  \
    return cb__peer_locate(&peer_##id, a, s, sizeof a, why, cap);                                   \
  }                                                                                                 \
  static const cb_model model_##id = {.name = name_, .summary = summary_, .run = run_##id, .peer = 1, \
                                      .available = available_##id};

PEER(py_sync, "py-sync", "Python, the seed's sync: jobs one after another (urlopen, a ** b, time.sleep)",
     CB_PEER_PYTHON, "sync", "pow http sleep", 1, NULL, "sync")
PEER(py_threads, "py-threads", "Python threading: a Thread per job (the seed) or a ThreadPoolExecutor of C; skynet",
     CB_PEER_PYTHON, "threads", "pow http sleep spawn", 0, NULL, "threads")
PEER(py_procs, "py-procs", "Python multiprocessing: a Process per job (the seed) or a Pool of C",
     CB_PEER_PYTHON, "procs", "pow http sleep", 0, NULL, "procs")
PEER(py_gevent, "py-gevent", "Python gevent, monkey-patched: a greenlet per job (the seed) or a Pool of C; skynet",
     CB_PEER_PYTHON, "gevent", "pow http sleep spawn", 0, gevent_mods, "green")
PEER(py_asyncio, "py-asyncio",
     "Python asyncio as the seed writes it: gather, a ClientSession per job (aiohttp), pow in the default executor",
     CB_PEER_PYTHON, "asyncio", "pow http sleep spawn", 0, aiohttp_mods, "loop")
PEER(py_uvloop, "py-uvloop", "py-asyncio on uvloop's loop", CB_PEER_PYTHON, "uvloop", "pow http sleep spawn", 0,
     uvloop_mods, "loop")
PEER(py_threads_idiom, "py-threads-idiom", "py-threads, idiomatic: a keep-alive connection per job (http.client)",
     CB_PEER_PYTHON, "threads-idiom", "pow http sleep spawn", 0, NULL, "threads")
PEER(py_gevent_idiom, "py-gevent-idiom", "py-gevent, idiomatic: a keep-alive connection per job (http.client)",
     CB_PEER_PYTHON, "gevent-idiom", "pow http sleep spawn", 0, gevent_mods, "green")
PEER(py_asyncio_idiom, "py-asyncio-idiom",
     "Python asyncio, idiomatic: one ClientSession for the run, pow in a ProcessPoolExecutor", CB_PEER_PYTHON,
     "asyncio-idiom", "pow http sleep spawn", 0, aiohttp_mods, "loop")
PEER(py_uvloop_idiom, "py-uvloop-idiom", "py-asyncio-idiom on uvloop's loop", CB_PEER_PYTHON, "uvloop-idiom",
     "pow http sleep spawn", 0, uvloop_mods, "loop")
PEER(go, "go", "Go goroutines: net/http (one Client), math/big, time.Sleep, skynet over channels", CB_PEER_GO,
     "goroutines", "pow http sleep spawn", 0, NULL, "green")

static const cb_model *const peers[] = {
    &model_py_sync,          &model_py_threads,       &model_py_procs,        &model_py_gevent,
    &model_py_asyncio,       &model_py_uvloop,        &model_py_threads_idiom, &model_py_gevent_idiom,
    &model_py_asyncio_idiom, &model_py_uvloop_idiom,  &model_go,
};

static const cb_peer *const defs[] = {
    &peer_py_sync,          &peer_py_threads,       &peer_py_procs,        &peer_py_gevent,
    &peer_py_asyncio,       &peer_py_uvloop,        &peer_py_threads_idiom, &peer_py_gevent_idiom,
    &peer_py_asyncio_idiom, &peer_py_uvloop_idiom,  &peer_go,
};

_Static_assert(sizeof defs / sizeof defs[0] == sizeof peers / sizeof peers[0], "a definition per peer");

const char *cb_peer_counterpart(const cb_model *m) {
  for (size_t k = 0; k < sizeof peers / sizeof peers[0]; k++)
    if (peers[k] == m) return defs[k]->counterpart;
  return NULL;
}

const cb_model *const *cb_peer_all(size_t *count) {
  *count = sizeof peers / sizeof peers[0];
  return peers;
}

/* The folder of the peer programs: $CONCBENCH_PEERS_DIR, else peers/ next to this
 * executable. */
static int peers_dir(char *out, size_t cap) { return cb_program_path("peers", "CONCBENCH_PEERS_DIR", out, cap); }

/* One line on what is missing into why; -ENOENT. */
#define MISSING(...) (snprintf(why, why_cap, __VA_ARGS__), -ENOENT)

int cb__peer_locate(const cb_peer *p, char *argv0, char *script, size_t cap, char *why, size_t why_cap) {
  char dir[PATH_MAX];
  if (peers_dir(dir, sizeof dir) != 0) return MISSING("cannot find this executable");
  script[0] = '\0';
  if (p->lang == CB_PEER_GO) {
    const char *env = getenv("CONCBENCH_PEER_GO");
    if (env && *env) snprintf(argv0, cap, "%s", env);
    else snprintf(argv0, cap, "%s/concbench-peer-go", dir);
    if (access(argv0, X_OK) != 0)
      return MISSING("needs golang-go (Go), then make, which builds %s", argv0);
    return 0;
  }
  const char *env = getenv("CONCBENCH_PEER_PYTHON");
  snprintf(argv0, cap, "%s", env && *env ? env : PYTHON);
  if (access(argv0, X_OK) != 0) return MISSING("needs python3 (%s is not there)", argv0);
  for (const cb_peer_module *m = p->modules; m && m->module; m++) {
    char init[PATH_MAX];
    snprintf(init, sizeof init, "%s/%s/__init__.py", DIST_PACKAGES, m->module);
    if (access(init, R_OK) != 0)
      return MISSING("needs %s (Python's %s module)", m->package, m->module);
  }
  snprintf(script, cap, "%s/python/peer.py", dir);
  if (access(script, R_OK) != 0) return MISSING("needs %s: run make, which copies it there", script);
  return 0;
}
