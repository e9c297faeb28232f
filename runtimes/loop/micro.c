/* micro.c — the loop model's coordination micro-workloads: pingpong (two tasks
 * handing a token through futures) and spawn (the skynet tree on tasks + gather).
 * Each reports its per-operation figure: ns_per_switch; ns_per_spawn (tree wall
 * time over tasks created), bytes_per_task (peak-RSS growth over the tasks alive
 * at the peak) and peak_live — the definitions the spawn workload uses. */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/loop_int.h"
#include "runtimes/loop/model.h"

/* ---- pingpong ---- */
typedef struct pair {
  cb_future to_pong, to_ping;
  uint64_t handoffs;
} pair;

typedef struct pp_frame {
  cb_co co;
  pair *p;
  uint64_t rounds, r;
  cb_job_record *rec;
} pp_frame;

static int ping_co(cb_task *task, void *vf) {
  pp_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->rec->start_ns = cb_now_ns();
  for (f->r = 0; f->r < f->rounds; f->r++) {
    f->p->handoffs++;
    CB_CHECK(cb_future_set_result(&f->p->to_pong, (cb_val){.u = f->r}) == 0);
    CB_AWAIT(&f->p->to_ping);
    cb_future_reset(&f->p->to_ping);
  }
  f->rec->end_ns = cb_now_ns();
  f->rec->result = f->p->handoffs;
  f->rec->done = 1;
  CB_CO_END();
}

static int pong_co(cb_task *task, void *vf) {
  pp_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (f->r = 0; f->r < f->rounds; f->r++) {
    CB_AWAIT(&f->p->to_pong);
    cb_future_reset(&f->p->to_pong);
    f->p->handoffs++;
    CB_CHECK(cb_future_set_result(&f->p->to_ping, (cb_val){.u = f->r}) == 0);
  }
  CB_CO_END();
}

static cb_task *pp_task(cb_loop *l, cb_co_fn fn, pair *p, uint64_t rounds, cb_job_record *rec) {
  cb_task *t = cb_create_task(l, fn, sizeof(pp_frame), NULL);
  if (!t) return NULL;
  pp_frame *f = cb_task_frame(t);
  f->p = p;
  f->rounds = rounds;
  f->rec = rec;
  cb_task_release(t);
  return t;
}

int cb__loop_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  cb_loop *l = cb_loop_new();
  pair *pairs = calloc(spec->tasks, sizeof *pairs);
  if (!l || !pairs) {
    free(pairs);
    if (l) cb_loop_close(l);
    cb_report_error(report, "loop pingpong: out of memory");
    return -ENOMEM;
  }
  int rc = 0;
  for (uint64_t i = 0; i < spec->tasks && rc == 0; i++) {
    cb_future_init(&pairs[i].to_pong, l);
    cb_future_init(&pairs[i].to_ping, l);
    if (!pp_task(l, ping_co, &pairs[i], rounds, &report->jobs[i]) ||
        !pp_task(l, pong_co, &pairs[i], rounds, NULL))
      rc = -ENOMEM;
  }
  int64_t t0 = cb_now_ns();
  if (rc == 0) rc = cb_loop_run_forever(l) == -EDEADLK ? 0 : -EIO; /* returns when all are done */
  int64_t t1 = cb_now_ns();
  for (uint64_t i = 0; i < spec->tasks; i++)
    if (!report->jobs[i].done) {
      report->jobs[i].status = -EIO;
      cb_report_error(report, "loop pingpong: pair %llu did not finish", (unsigned long long)i);
    }
  report->created = cb_loop_tasks_created(l);
  report->created_kind = "tasks";
  double switches = (double)spec->tasks * 2.0 * (double)rounds;
  if (switches > 0) cb_report_extra(report, "ns_per_switch", (double)(t1 - t0) / switches);
  cb_loop_close(l);
  free(pairs);
  return rc;
}

/* ---- spawn: the skynet tree ---- */
typedef struct leaf_frame {
  cb_co co;
  uint64_t num;
} leaf_frame;

static int leaf_co(cb_task *task, void *vf) {
  leaf_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_RETURN((cb_val){.u = f->num});
  CB_CO_END();
}

/* Node frame; the kids/futs/slots arrays follow it (fanout entries each). */
typedef struct node_frame {
  cb_co co;
  uint64_t num, size, fanout;
  uint32_t nkids, k;
  cb_task **kids;
  cb_future **futs;
  cb_slot *slots;
  cb_gather g;
} node_frame;

static size_t node_size(uint64_t fanout) {
  return sizeof(node_frame) + fanout * (sizeof(cb_task *) + sizeof(cb_future *) + sizeof(cb_slot));
}

static int node_co(cb_task *task, void *vf);

static cb_task *spawn_node(cb_loop *l, uint64_t num, uint64_t size, uint64_t fanout) {
  if (size == 1) {
    cb_task *t = cb_create_task(l, leaf_co, sizeof(leaf_frame), NULL);
    if (t) ((leaf_frame *)cb_task_frame(t))->num = num;
    return t;
  }
  cb_task *t = cb_create_task(l, node_co, node_size(fanout), NULL);
  if (!t) return NULL;
  node_frame *f = cb_task_frame(t);
  f->num = num;
  f->size = size;
  f->fanout = fanout;
  f->kids = (cb_task **)(f + 1);
  f->futs = (cb_future **)(f->kids + fanout);
  f->slots = (cb_slot *)(f->futs + fanout);
  return t;
}

static int node_co(cb_task *task, void *vf) {
  node_frame *f = vf;
  CB_CO_BEGIN(task, f);
  {
    uint64_t k = f->size < f->fanout ? f->size : f->fanout, off = f->num;
    f->nkids = (uint32_t)k;
    for (uint64_t j = 0; j < k; j++) {
      uint64_t part = f->size / k + (j < f->size % k);
      f->kids[j] = spawn_node(cb_task_loop(task), off, part, f->fanout);
      CB_CHECK(f->kids[j] != NULL);
      f->futs[j] = cb_task_future(f->kids[j]);
      off += part;
    }
  }
  cb_gather_init(&f->g, cb_task_loop(task), f->futs, f->slots, f->nkids, 0);
  CB_AWAIT(&f->g.fut);
  {
    uint64_t sum = 0;
    for (f->k = 0; f->k < f->nkids; f->k++) {
      sum += cb_task_result(f->kids[f->k]).u;
      cb_task_release(f->kids[f->k]);
    }
    CB_RETURN((cb_val){.u = sum});
  }
  CB_CO_END();
}

static long max_rss_kb(void) {
  struct rusage ru;
  CB_CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
  return ru.ru_maxrss;
}

int cb__loop_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                        cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  if (leaves == 0 || fanout < 2) {
    cb_report_error(report, "loop spawn: need leaves >= 1 and fanout >= 2");
    return -EINVAL;
  }
  long rss0 = max_rss_kb();
  cb_loop *l = cb_loop_new();
  if (!l) return -ENOMEM;
  int64_t t0 = cb_now_ns();
  cb_task *root = spawn_node(l, 0, leaves, fanout);
  CB_CHECK(root != NULL);
  int rc = cb_loop_run_until_complete(l, cb_task_future(root));
  int64_t t1 = cb_now_ns();
  cb_err e = cb_task_error(root);
  if (rc == 0 && e.code == 0) *sum = cb_task_result(root).u;
  if (spec->tasks >= 1) {
    cb_job_record *rec = &report->jobs[0];
    rec->start_ns = t0;
    rec->end_ns = t1;
    rec->result = *sum;
    rec->status = rc ? rc : e.code;
    rec->done = 1;
  }
  report->created = cb_loop_tasks_created(l);
  report->created_kind = "tasks";
  cb_report_extra(report, "ns_per_spawn", (double)(t1 - t0) / (double)report->created);
  long rss1 = max_rss_kb();
  uint64_t peak = cb_loop_tasks_peak(l);
  cb_report_extra(report, "bytes_per_task", (double)(rss1 > rss0 ? rss1 - rss0 : 0) * 1024.0 / (double)peak);
  cb_report_extra(report, "peak_live", (double)peak);
  cb_task_release(root);
  cb_loop_close(l);
  return rc ? rc : e.code;
}
