/* cmd_microbench.c — `concbench microbench`: the green runtime's micro-measurements
 * as one JSON object (switch cost of the build's context switch, yield, channel
 * hand-off, the syscall hooks' cost outside green threads, and the kernel's price
 * of a fresh stack page). Build with
 * GREEN_SWITCH=ucontext to measure the portable switch. `--stream`: the machine's
 * memory bandwidth instead (harness/bench/stream.h), as a bench stores it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "harness/bench/stream.h"
#include "common/util.h"
#include "harness/cli/commands.h"
#include "runtimes/green/green.h"

static int stream(void) {
  cb_stream_figures s;
  char why[256];
  int rc = cb_stream_measure(&s, why, sizeof why);
  if (rc != 0) {
    fprintf(stderr, "concbench microbench: STREAM: %s\n", why);
    return 1;
  }
  json_t *o = cb_stream_json(&s);
  json_dumpf(o, stdout, JSON_COMPACT);
  fputc('\n', stdout);
  json_decref(o);
  return 0;
}

int cb_cmd_microbench(int argc, char **argv) {
  if (argc == 1 && strcmp(argv[0], "--stream") == 0) return stream();
  if (argc != 0) {
    cb_usage_error("concbench microbench", "takes no arguments, or --stream alone; got '%s'",
                   strcmp(argv[0], "--stream") == 0 ? argv[1] : argv[0]);
    return 2;
  }
  cb_green_bench b;
  int rc = cb_green_microbench(&b);
  if (rc != 0) {
    fprintf(stderr, "concbench microbench: %s\n", strerror(-rc));
    return 1;
  }
  json_t *o = json_object();
  json_object_set_new(o, "switch_backend", json_string(b.backend));
  json_object_set_new(o, "ns_per_raw_switch", json_real(b.raw_switch_ns));
  json_object_set_new(o, "ns_per_yield", json_real(b.yield_ns));
  json_object_set_new(o, "ns_per_chan_handoff", json_real(b.chan_handoff_ns));
  json_object_set_new(o, "ns_write_hooked", json_real(b.write_hooked_ns));
  json_object_set_new(o, "ns_write_libc", json_real(b.write_libc_ns));
  json_object_set_new(o, "hook_overhead_ratio", json_real(b.write_hooked_ns / b.write_libc_ns));
  json_object_set_new(o, "ns_per_fresh_page", json_real(b.fresh_page_ns));
  json_object_set_new(o, "ns_per_page_unmap", json_real(b.page_unmap_ns));
  json_dumpf(o, stdout, JSON_COMPACT);
  fputc('\n', stdout);
  json_decref(o);
  return 0;
}
