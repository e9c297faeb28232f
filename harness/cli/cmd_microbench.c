/* cmd_microbench.c — `concbench microbench`: the green runtime's micro-measurements
 * as one JSON object (switch cost of the build's context switch, yield, channel
 * hand-off, the syscall hooks' cost outside green threads, and the kernel's price
 * of a fresh stack page). Build with
 * GREEN_SWITCH=ucontext to measure the portable switch. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "runtimes/green/green.h"

int cb_cmd_microbench(int argc, char **argv) {
  if (argc != 0) {
    fprintf(stderr, "concbench microbench: takes no arguments\n");
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
