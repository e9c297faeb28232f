/* cmd_serve.c — `concbench serve`: only the server of a server cell, on an address
 * the user chooses, until SIGINT/SIGTERM or --seconds; for a client on another
 * machine (concbench run --target, or bin/loadgen). */
#include <stdio.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/run/cell.h"
#include "harness/run/record.h"

int cb_cmd_serve(int argc, char **argv) {
  if (argc == 1 && strcmp(argv[0], "--help") == 0) {
    printf("usage: concbench serve --model M --workload W [--listen HOST:PORT] [--allow-remote] [--seconds S]\n"
           "           [--tasks N] [--concurrency C] [--param k=v]... [--server URL] [--stack-size BYTES]\n"
           "serves a server workload (echo, serve) with the model on HOST:PORT (default 127.0.0.1:0; another\n"
           "address only with --allow-remote) for N connections at most (default 10000) until SIGINT or\n"
           "SIGTERM, or for S seconds; prints the address and the client's command on stderr, the\n"
           "server's totals as one JSON object on stdout when it stops\n");
    return CB_EXIT_OK;
  }
  cb_cell cell;
  if (cb_cell_parse(argc, argv, 1, &cell) != 0) return CB_EXIT_USAGE;
  return cb_cell_run(&cell);
}
