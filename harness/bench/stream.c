/* stream.c — see stream.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/check.h"
#include "common/clock.h"
#include "harness/bench/stream.h"

#define ELEMS ((size_t)CB_STREAM_ARRAY_MIB * (1u << 20) / sizeof(double))
#define BYTES_PER_ELEM (3 * sizeof(double))
#define MAX_THREADS 1024

typedef struct stream_run {
  double *a, *b, *c;
  int nthreads;
  int cpus[MAX_THREADS];
  pthread_barrier_t start, done;
  int64_t best_ns; /* written by thread 0 only */
} stream_run;

typedef struct stream_thread {
  stream_run *run;
  int k;
  pthread_t tid;
} stream_thread;

static void triad(double *restrict a, const double *restrict b, const double *restrict c, size_t n) {
  for (size_t j = 0; j < n; j++) a[j] = b[j] + 3.0 * c[j];
}

/* Thread k: pinned to its CPU, touches its slice, then CB_STREAM_REPS triads between
 * barriers; thread 0 times each one (from every thread's start to every thread's end). */
static void *worker(void *arg) {
  stream_thread *t = arg;
  stream_run *r = t->run;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(r->cpus[t->k], &set);
  sched_setaffinity(0, sizeof set, &set); /* best effort: unpinned, the figure is still a bandwidth */
  size_t lo = ELEMS * (size_t)t->k / (size_t)r->nthreads, hi = ELEMS * (size_t)(t->k + 1) / (size_t)r->nthreads;
  for (size_t j = lo; j < hi; j++) r->a[j] = 1.0, r->b[j] = 2.0, r->c[j] = 0.5;
  for (int rep = 0; rep < CB_STREAM_REPS; rep++) {
    pthread_barrier_wait(&r->start);
    int64_t t0 = cb_now_ns();
    triad(r->a + lo, r->b + lo, r->c + lo, hi - lo);
    pthread_barrier_wait(&r->done);
    int64_t ns = cb_now_ns() - t0;
    if (t->k == 0 && (r->best_ns == 0 || ns < r->best_ns)) r->best_ns = ns;
  }
  return NULL;
}

/* One measurement with the first nthreads CPUs of cpus: GB/s, or a negative errno. */
static double measure(stream_run *r, int nthreads, char *why, size_t cap) {
  stream_thread t[MAX_THREADS];
  r->nthreads = nthreads;
  r->best_ns = 0;
  CB_CHECK(pthread_barrier_init(&r->start, NULL, (unsigned)nthreads) == 0);
  CB_CHECK(pthread_barrier_init(&r->done, NULL, (unsigned)nthreads) == 0);
  int started = 0, rc = 0;
  for (; started < nthreads; started++) {
    t[started] = (stream_thread){.run = r, .k = started};
    if ((rc = pthread_create(&t[started].tid, NULL, worker, &t[started])) != 0) break;
  }
  /* a thread that could not start leaves those before it at a barrier that never fills */
  CB_CHECK(rc == 0 || started == 0);
  for (int k = 0; k < started; k++) pthread_join(t[k].tid, NULL);
  pthread_barrier_destroy(&r->start);
  pthread_barrier_destroy(&r->done);
  if (rc != 0) {
    snprintf(why, cap, "cannot start a thread: %s", strerror(rc));
    return -rc;
  }
  /* the arrays are read back, so no compiler may drop a sweep */
  volatile double sink = r->a[ELEMS - 1];
  (void)sink;
  return (double)(ELEMS * BYTES_PER_ELEM) / ((double)r->best_ns / 1e9) / 1e9;
}

int cb_stream_measure(cb_stream_figures *out, char *why, size_t cap) {
  static stream_run r; /* the CPU list is large; one measurement at a time */
  memset(&r, 0, sizeof r);
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    snprintf(why, cap, "cannot read this process's CPUs: %s", strerror(errno));
    return -errno;
  }
  int n = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && n < MAX_THREADS; cpu++)
    if (CPU_ISSET(cpu, &allowed)) r.cpus[n++] = cpu;
  size_t size = ELEMS * sizeof(double);
  double **arrays[] = {&r.a, &r.b, &r.c};
  int rc = 0;
  for (int q = 0; q < 3 && rc == 0; q++) {
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      rc = -errno;
      snprintf(why, cap, "cannot map %d MiB: %s", CB_STREAM_ARRAY_MIB, strerror(errno));
    } else {
      *arrays[q] = m;
    }
  }
  double one = rc == 0 ? measure(&r, 1, why, cap) : 0;
  /* fresh pages for the second measurement: each thread first-touches its own slice */
  for (int q = 0; q < 3 && rc == 0 && one > 0; q++) madvise(*arrays[q], size, MADV_DONTNEED);
  double all = rc == 0 && one > 0 ? measure(&r, n, why, cap) : 0;
  for (int q = 0; q < 3; q++)
    if (*arrays[q]) munmap(*arrays[q], size);
  if (rc != 0) return rc;
  if (one < 0) return (int)one;
  if (all < 0) return (int)all;
  *out = (cb_stream_figures){.threads_1 = one, .threads_all = all, .cores = n};
  return 0;
}

json_t *cb_stream_json(const cb_stream_figures *s) {
  return json_pack("{s:f, s:f, s:i, s:i}", "threads_1", s->threads_1, "threads_all", s->threads_all, "cores", s->cores,
                   "array_mib", CB_STREAM_ARRAY_MIB);
}

int cb_stream_from_json(json_t *v, cb_stream_figures *out) {
  json_t *one = json_object_get(v, "threads_1"), *all = json_object_get(v, "threads_all"),
         *cores = json_object_get(v, "cores");
  if (!json_is_number(one) || !json_is_number(all) || !json_is_integer(cores) || !(json_number_value(one) > 0) ||
      !(json_number_value(all) > 0) || json_integer_value(cores) < 1)
    return -EINVAL;
  *out = (cb_stream_figures){.threads_1 = json_number_value(one), .threads_all = json_number_value(all),
                             .cores = (int)json_integer_value(cores)};
  return 0;
}
