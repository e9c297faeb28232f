/* stream.h — the machine's memory bandwidth, measured as STREAM's triad
 * (a[j] = b[j] + 3 c[j] over doubles; 24 bytes an element, STREAM's count) on three
 * arrays of CB_STREAM_ARRAY_MIB each, far above a last-level cache, the best of
 * CB_STREAM_REPS repetitions: once with one thread, once with one thread per CPU
 * this process may run on, each pinned to its CPU and sweeping its own slice (first
 * touched by it). About a second in all. The ceiling of the membw workload's
 * gb_per_s: a bench stores it in meta.json under CB_STREAM_META_KEY, the report
 * reads it back (cb_results_stream, results.h). */
#ifndef CB_STREAM_H
#define CB_STREAM_H

#include <jansson.h>

#define CB_STREAM_ARRAY_MIB 128
#define CB_STREAM_REPS 10
#define CB_STREAM_META_KEY "stream_gb_per_s"

typedef struct cb_stream_figures {
  double threads_1;   /* GB/s (1e9 bytes), one thread */
  double threads_all; /* GB/s, one thread per CPU */
  int cores;          /* the threads of threads_all */
} cb_stream_figures;

/* Measures both figures. 0, or a negative errno with why (cap bytes). */
int cb_stream_measure(cb_stream_figures *out, char *why, size_t cap);

/* The figures as stored: {"threads_1": x, "threads_all": y, "cores": n, "array_mib": m}
 * (new reference); and back: 0, or -EINVAL when v is not such an object with
 * positive figures. */
json_t *cb_stream_json(const cb_stream_figures *s);
int cb_stream_from_json(json_t *v, cb_stream_figures *out);

#endif
