/* memory.c — where a green thread's memory goes: the figures a spawn cell and a
 * sleep-type run cell of `green` and `green-mn` report, each per green thread in
 * existence at the peak (peak_threads: made and not yet retired, which is what holds
 * a record and a stack), so that the parts can be set against the whole. peak_live
 * (alive: spawned and not finished; M:N: started) is reported beside it; it is not
 * the denominator because M:N counts a thread alive only once it starts, while the
 * queued ones hold their stacks too (skynet on one worker: 7 started, ~60 made).
 *
 *  - bytes_per_task: peak RSS growth over the phase (getrusage's ru_maxrss after the
 *    run minus before it). Measured.
 *  - stack_bytes_per_task: the stacks' resident pages, measured with mincore. When no
 *    stack's pages were ever given back (trim_cold, sched.c: beyond the 1,024 warm
 *    stacks), all of them are looked at after the run (cb__stack_pool_resident): pages
 *    only come and never go before then, so that is the peak, exactly (skynet).
 *    Otherwise (100,000 sleeps), from the first trim on, every
 *    CB__STACK_SAMPLE_EVERY-th thread that finishes on a stack of its own has its slot
 *    looked at (cb__green_sample_stack, from
 *    retire: the deepest the slot was touched, by this thread or an earlier one on
 *    it), and the mean times the stacks made is the estimate; the samples lean
 *    towards the slots reused most. Under M:N each worker samples its own retires (every
 *    retire happens on the record's home worker, mn.c) and the group sums them.
 *    Copy mode (copystack.c): the save buffers' capacity instead (no stack of their
 *    own; the one shared stack is left out).
 *  - record_bytes_per_task: the thread records made (cb_green, CB__GREEN_BLOCK to a
 *    block) with their blocks' overhead (header and malloc's slack: the usable size
 *    less the unused slots, which are never touched): exact.
 *  - pagetable_bytes_per_task: VmPTE growth (/proc/self/status, read before the phase
 *    and after the run, before the stacks are unmapped). Page tables are kernel
 *    memory, not counted in RSS: this is on top of bytes_per_task.
 *  - stack_vm_bytes_per_task: the stacks' address space, slots and guard regions. Costs
 *    no memory (MAP_NORESERVE; guard markers are page-table entries, PROT_NONE guards a
 *    mapping each), only address space and the page tables above.
 *
 * The rest of bytes_per_task (bytes_per_task - stack - record) is what the phase
 * allocated besides: the workload's per-job state, libuv's and the timers', malloc's
 * slack, and pages touched before the phase that the run did not grow. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "runtimes/green/green_int.h"
#include "runtimes/runtime.h"

/* Contract: see green_int.h. Cost: one mincore for a stack of up to 1 MiB. */
void cb__green_sample_stack(cb_green_sched *s, const cb_green *g) {
  s->stack_samples++;
  s->stack_sampled_bytes += cb__stack_resident(&s->stacks, g->stack_lo, s->stacks.size);
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* A "Key:   N kB" line of /proc/self/status, in KiB; -1 if missing. */
static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      if (sscanf(line + n + 1, "%ld", &v) != 1) v = -1;
      break;
    }
  fclose(f);
  return v;
}

/* RSS last: reading the status file allocates stdio's buffer. */
void cb__green_mem_begin(cb__green_mem *m) {
  m->pte0_kb = status_kb("VmPTE");
  m->pte1_kb = m->pte0_kb;
  m->rss0_kb = max_rss_kb();
}

void cb__green_mem_end(cb__green_mem *m) { m->pte1_kb = status_kb("VmPTE"); }

void cb__green_report_memory(cb_run_report *report, const cb__green_mem *m, const cb_green_stats *st) {
  if (st->peak_threads == 0) return;
  double n = (double)st->peak_threads;
  long rss1 = max_rss_kb();
  cb_report_extra(report, "bytes_per_task", (double)(rss1 > m->rss0_kb ? rss1 - m->rss0_kb : 0) * 1024.0 / n);
  cb_report_extra(report, "peak_live", (double)st->peak_live);
  cb_report_extra(report, "peak_threads", n);
  if (st->copy_buffer_bytes > 0)
    cb_report_extra(report, "stack_bytes_per_task", (double)st->copy_buffer_bytes / n);
  else if (!st->stack_trimmed)
    cb_report_extra(report, "stack_bytes_per_task", (double)st->stack_resident_bytes / n);
  else if (st->stack_samples > 0)
    cb_report_extra(report, "stack_bytes_per_task",
                    (double)st->stack_sampled_bytes / (double)st->stack_samples * (double)st->stacks / n);
  cb_report_extra(report, "record_bytes_per_task", (double)st->record_bytes / n);
  if (m->pte0_kb >= 0 && m->pte1_kb >= 0)
    cb_report_extra(report, "pagetable_bytes_per_task",
                    (double)(m->pte1_kb > m->pte0_kb ? m->pte1_kb - m->pte0_kb : 0) * 1024.0 / n);
  cb_report_extra(report, "stack_vm_bytes_per_task", (double)st->stack_vm_bytes / n);
}

int cb__green_run_reports_memory(const cb_run_spec *spec) {
  return spec->workload->kind == CB_KIND_IO && !spec->workload->needs_server;
}
