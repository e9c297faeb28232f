/* concbench — the CLI: list the models and workloads, run one cell, bench many,
 * report, compare and advise. */
#include <stdio.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/run/record.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: concbench COMMAND [ARGS]\n"
          "  list [--json]                 models and workloads with their parameters\n"
          "  run --model M --workload W [--tasks N] [--concurrency C] [--param k=v]...\n"
          "      [--server URL] [--stack-size BYTES] [--out FILE] [--target HOST:PORT [--allow-remote]]\n"
          "                                run one cell, print one JSON object (run --help:\n"
          "                                the record's keys and error classes)\n"
          "  serve --model M --workload W [--listen HOST:PORT [--allow-remote]] [--seconds S] ...\n"
          "                                only serve a server workload, for a client elsewhere\n"
          "  bench [--profile quick|default|full|peers] [--models M,..] [--workloads W,..] [--peers]\n"
          "      [--tasks N,..] [--cores K,..] [--cpu-tasks N] [--concurrency C]\n"
          "      [--param [WORKLOAD:]k=v]... [--stages S,..] [--runs R] [--limit SECONDS]\n"
          "      [--run-id ID] [--results DIR] [--fresh]\n"
          "      [--conns N,..] [--loads PCT,..] [--server-runs R] [--grid-cpu-us X,..] [--grid-io-ms Y,..]\n"
          "      [--grid-tasks N,..]\n"
          "                                time every cell with hyperfine into DIR/ID (default\n"
          "                                results/PROFILE), resumable; then report\n"
          "  report [--skip-damaged] [RUN] tables.md, report.html, summary.csv, servers.csv, charts\n"
          "                                (default results/latest)\n"
          "  compare [--skip-damaged] RUN_A RUN_B\n"
          "                                per cell: B / A with a 95%% bootstrap interval\n"
          "  advise --cpu-ms X --io-ms Y --tasks N [--run RUN] [--skip-damaged]\n"
          "                                rank the models for N jobs of X ms CPU + Y ms wait\n"
          "  advise --check [--run RUN] [--tasks N] [--shapes CPU_US:IO_MS,..] [--rounds R]\n"
          "      [--models A,..] [--io delayd|sleep] [--limit S] [--runs K] [--against-run] [--json]\n"
          "                                the prediction against the measured mixed workload;\n"
          "                                exit 0 both targets met, 1 a target missed, 2 bad input\n"
          "  A damaged run (a line cut short, not JSON, not a record) is refused (exit 2),\n"
          "  each damaged line named; --skip-damaged reads the rest, listing what it skips.\n"
          "  microbench                    green runtime: switch, yield, channel, hook costs (JSON)\n"
          "  microbench --stream           memory bandwidth: STREAM triad, 1 thread and one per CPU (JSON)\n");
  cb_run_exits_help(f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CB_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "list") == 0) return cb_cmd_list(argc - 2, argv + 2);
  if (strcmp(cmd, "bench") == 0) return cb_cmd_bench(argc - 2, argv + 2);
  if (strcmp(cmd, "compare") == 0) return cb_cmd_compare(argc - 2, argv + 2);
  if (strcmp(cmd, "advise") == 0) return cb_cmd_advise(argc - 2, argv + 2);
  if (strcmp(cmd, "report") == 0) return cb_cmd_report(argc - 2, argv + 2);
  if (strcmp(cmd, "microbench") == 0) return cb_cmd_microbench(argc - 2, argv + 2);
  if (strcmp(cmd, "run") == 0) return cb_cmd_run(argc - 2, argv + 2);
  if (strcmp(cmd, "serve") == 0) return cb_cmd_serve(argc - 2, argv + 2);
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "concbench: unknown command '%s'; one of: list, run, serve, bench, report, compare, advise, microbench, help\n", cmd);
  return CB_EXIT_USAGE;
}
