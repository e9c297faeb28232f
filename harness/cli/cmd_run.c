/* cmd_run.c — `concbench run`: one cell (harness/run), its record on stdout. */
#include <stdio.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/run/cell.h"
#include "harness/run/record.h"

int cb_cmd_run(int argc, char **argv) {
  if (argc == 1 && strcmp(argv[0], "--help") == 0) {
    printf("usage: concbench run --model M --workload W [--tasks N] [--concurrency C] [--param k=v]...\n"
           "           [--server URL] [--stack-size BYTES] [--out FILE] [--target HOST:PORT [--allow-remote]]\n"
           "runs one cell and prints its record, one JSON object, on stdout (and appends it to FILE);\n"
           "a server workload's cell serves with the model and loads it with bin/loadgen, or with\n"
           "--target loads a server `concbench serve` runs there (another host only with --allow-remote)\n");
    cb_run_exits_help(stdout);
    cb_run_record_help(stdout);
    return CB_EXIT_OK;
  }
  cb_cell cell;
  if (cb_cell_parse(argc, argv, 0, &cell) != 0) return CB_EXIT_USAGE;
  return cb_cell_run(&cell);
}
