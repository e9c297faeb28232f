/* bench.c — micro-measurements of the green runtime (concbench microbench):
 * the bare context switch, a yield through the scheduler, a channel hand-off, and
 * what the syscall hooks cost a program outside green threads (a hooked write()
 * against libc's own, found with dlsym(RTLD_NEXT)), and what the kernel charges for
 * the fresh page a new green thread's first frames land on (first write to an
 * anonymous page, and its unmapping): the floor under spawning many threads that
 * all stay alive. Figures are the best of several trials (the least disturbed by
 * other load), in nanoseconds per operation. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtimes/green/green_int.h"

#define TRIALS 7

typedef struct sw_pair {
  cb__gctx main, other;
} sw_pair;

static void bounce(void *p) {
  sw_pair *sp = p;
  for (;;) cb__gctx_switch(&sp->other, &sp->main);
}

/* One trial of n bare switches (n/2 round trips). */
static double raw_switch_ns(uint64_t n, void *stack, size_t size) {
  sw_pair sp;
  cb__gctx_make(&sp.other, stack, size, bounce, &sp);
  int64_t t0 = cb__mono_ns();
  for (uint64_t i = 0; i < n / 2; i++) cb__gctx_switch(&sp.main, &sp.other);
  return (double)(cb__mono_ns() - t0) / (double)n;
}

static void yielder(void *p) {
  for (uint64_t i = *(uint64_t *)p; i > 0; i--) cb_green_yield();
}

typedef struct chan_pair {
  cb_green_chan *ab, *ba;
  uint64_t rounds;
} chan_pair;

static void chan_a(void *p) {
  chan_pair *c = p;
  for (uint64_t i = 0; i < c->rounds; i++) {
    CB_CHECK(cb_green_chan_send(c->ab, &i) == 0);
    CB_CHECK(cb_green_chan_recv(c->ba, &i) == 0);
  }
}

static void chan_b(void *p) {
  chan_pair *c = p;
  for (uint64_t i = 0, v; i < c->rounds; i++) {
    CB_CHECK(cb_green_chan_recv(c->ab, &v) == 0);
    CB_CHECK(cb_green_chan_send(c->ba, &v) == 0);
  }
}

/* Runs two green threads a and b; returns wall ns over `ops` operations. */
static int sched_trial(void (*a)(void *), void (*b)(void *), void *arg, uint64_t ops, double *ns) {
  cb_green_sched *s;
  int rc = cb_green_sched_new(0, &s);
  if (rc != 0) return rc;
  if ((rc = cb_green_spawn(s, a, arg, NULL)) == 0) rc = cb_green_spawn(s, b, arg, NULL);
  int64_t t0 = cb__mono_ns();
  if (rc == 0) rc = cb_green_sched_run(s);
  *ns = (double)(cb__mono_ns() - t0) / (double)ops;
  cb_green_sched_free(s);
  return rc;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);

static double write_ns(write_fn w, int fd, uint64_t n) {
  char c = 0;
  int64_t t0 = cb__mono_ns();
  for (uint64_t i = 0; i < n; i++) CB_CHECK(w(fd, &c, 1) == 1);
  return (double)(cb__mono_ns() - t0) / (double)n;
}

/* One trial over `pages` fresh anonymous pages: ns per first write, ns per page
 * unmapped. -errno when the mapping fails. */
static int fresh_page_trial(size_t pages, double *fault_ns, double *unmap_ns) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), len = pages * page;
  volatile char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return -errno;
  int64_t t0 = cb__mono_ns();
  for (size_t i = 0; i < pages; i++) m[i * page] = 1;
  int64_t t1 = cb__mono_ns();
  munmap((void *)m, len);
  int64_t t2 = cb__mono_ns();
  *fault_ns = (double)(t1 - t0) / (double)pages;
  *unmap_ns = (double)(t2 - t1) / (double)pages;
  return 0;
}

static double min2(double a, double b) { return a < b ? a : b; }

/* Contract: see green.h. Takes about a second. */
int cb_green_microbench(cb_green_bench *out) {
  const uint64_t switches = 2000000, writes = 200000;
  const size_t pages = 16384; /* 64 MiB of 4 KiB pages per trial */
  static _Alignas(16) char stack[64 * 1024];
  write_fn libc_write = (write_fn)dlsym(RTLD_NEXT, "write");
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (!libc_write || fd < 0) return fd < 0 ? -errno : -ENOSYS;
  *out = (cb_green_bench){.backend = cb__gctx_backend, .raw_switch_ns = 1e18, .yield_ns = 1e18,
                          .chan_handoff_ns = 1e18, .write_hooked_ns = 1e18, .write_libc_ns = 1e18,
                          .fresh_page_ns = 1e18, .page_unmap_ns = 1e18};
  int rc = 0;
  for (int t = 0; t < TRIALS && rc == 0; t++) {
    out->raw_switch_ns = min2(out->raw_switch_ns, raw_switch_ns(switches, stack, sizeof stack));
    uint64_t each = switches / 2;
    double ns;
    rc = sched_trial(yielder, yielder, &each, switches, &ns);
    out->yield_ns = min2(out->yield_ns, ns);
    chan_pair cp = {.rounds = switches / 2};
    if (rc == 0 && (rc = cb_green_chan_new(sizeof(uint64_t), 0, &cp.ab)) == 0 &&
        (rc = cb_green_chan_new(sizeof(uint64_t), 0, &cp.ba)) == 0) {
      rc = sched_trial(chan_a, chan_b, &cp, switches, &ns);
      out->chan_handoff_ns = min2(out->chan_handoff_ns, ns);
    }
    cb_green_chan_free(cp.ab);
    cb_green_chan_free(cp.ba);
    /* interleaved, so that both see the same machine load */
    out->write_hooked_ns = min2(out->write_hooked_ns, write_ns(write, fd, writes));
    out->write_libc_ns = min2(out->write_libc_ns, write_ns(libc_write, fd, writes));
    double fault_ns = 0, unmap_ns = 0;
    if (rc == 0 && (rc = fresh_page_trial(pages, &fault_ns, &unmap_ns)) == 0) {
      out->fresh_page_ns = min2(out->fresh_page_ns, fault_ns);
      out->page_unmap_ns = min2(out->page_unmap_ns, unmap_ns);
    }
  }
  close(fd);
  return rc;
}
