/* loop-bench — bin/loop-bench: micro-benchmarks of the loop runtime that
 * have no workload cell of their own. Every figure is printed next to the check
 * that the work was done (sums, counts).
 *
 *   loop-bench tasks N          N tasks created at once, run, completed: ns/task
 *   loop-bench spawn LEAVES FANOUT   skynet tree on tasks + gather (model op)
 *   loop-bench pingpong PAIRS ROUNDS  token hand-offs through futures (model op) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/model.h"

typedef struct { cb_co co; uint64_t i; } trivial_frame;

static int trivial(cb_task *task, void *vf) {
  trivial_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_RETURN((cb_val){.u = f->i});
  CB_CO_END();
}

typedef struct { uint64_t sum, n; } tally;

static void on_done(cb_task *t, void *arg) {
  tally *s = arg;
  s->sum += cb_task_result(t).u;
  s->n++;
}

static int bench_tasks(uint64_t n) {
  cb_loop *l = cb_loop_new();
  tally s = {0, 0};
  cb_loop_set_task_hooks(l, NULL, on_done, &s);
  int64_t t0 = cb_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    cb_task *t = cb_create_task(l, trivial, sizeof(trivial_frame), NULL);
    if (!t) return -ENOMEM;
    ((trivial_frame *)cb_task_frame(t))->i = i;
    cb_task_release(t);
  }
  int rc = cb_loop_run_forever(l); /* -EDEADLK: nothing left, all done */
  int64_t t1 = cb_now_ns();
  int ok = rc == -EDEADLK && s.n == n && s.sum == n * (n - 1) / 2;
  printf("{\"bench\":\"tasks\",\"n\":%llu,\"wall_s\":%.6f,\"ns_per_task\":%.1f,\"verified\":%s}\n",
         (unsigned long long)n, (t1 - t0) / 1e9, (double)(t1 - t0) / (double)n, ok ? "true" : "false");
  cb_loop_close(l);
  return ok ? 0 : -EIO;
}

static void print_extras(const cb_run_report *rep) {
  for (int i = 0; i < rep->nextra; i++) printf(",\"%s\":%.2f", rep->extra[i].key, rep->extra[i].value);
}

static int bench_spawn(uint64_t leaves, uint64_t fanout) {
  cb_run_spec spec = {.tasks = 1};
  cb_job_record rec = {0};
  cb_run_report rep = {.jobs = &rec};
  uint64_t sum = 0;
  int rc = cb_model_loop.spawn_tree(&spec, leaves, fanout, &sum, &rep);
  int ok = rc == 0 && sum == leaves * (leaves - 1) / 2;
  printf("{\"bench\":\"spawn\",\"leaves\":%llu,\"fanout\":%llu,\"wall_s\":%.6f,\"tasks\":%llu,\"sum\":%llu",
         (unsigned long long)leaves, (unsigned long long)fanout, (rec.end_ns - rec.start_ns) / 1e9,
         (unsigned long long)rep.created, (unsigned long long)sum);
  print_extras(&rep);
  printf(",\"verified\":%s}\n", ok ? "true" : "false");
  return ok ? 0 : -EIO;
}

static int bench_pingpong(uint64_t pairs, uint64_t rounds) {
  cb_run_spec spec = {.tasks = pairs};
  cb_run_report rep = {.jobs = calloc(pairs, sizeof(cb_job_record))};
  int rc = cb_model_loop.pingpong(&spec, rounds, &rep);
  int ok = rc == 0;
  for (uint64_t i = 0; i < pairs; i++) ok &= rep.jobs[i].done && rep.jobs[i].result == 2 * rounds;
  printf("{\"bench\":\"pingpong\",\"pairs\":%llu,\"rounds\":%llu", (unsigned long long)pairs,
         (unsigned long long)rounds);
  print_extras(&rep);
  printf(",\"verified\":%s}\n", ok ? "true" : "false");
  free(rep.jobs);
  return ok ? 0 : -EIO;
}

static uint64_t num(const char *s, const char *what) {
  char *end;
  unsigned long long v = strtoull(s ? s : "", &end, 10);
  if (!s || *end || v == 0) {
    fprintf(stderr, "loop-bench: %s must be a positive integer\n", what);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  int rc;
  if (strcmp(cmd, "tasks") == 0 && argc == 3)
    rc = bench_tasks(num(argv[2], "N"));
  else if (strcmp(cmd, "spawn") == 0 && argc == 4)
    rc = bench_spawn(num(argv[2], "LEAVES"), num(argv[3], "FANOUT"));
  else if (strcmp(cmd, "pingpong") == 0 && argc == 4)
    rc = bench_pingpong(num(argv[2], "PAIRS"), num(argv[3], "ROUNDS"));
  else {
    fprintf(stderr, "usage: loop-bench tasks N | spawn LEAVES FANOUT | pingpong PAIRS ROUNDS\n");
    return 2;
  }
  return rc ? 1 : 0;
}
