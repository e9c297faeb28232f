/* load_params.h — the load generator's parameters. Every server workload lists
 * CB_LOAD_PARAMS last in its parameter table, so that they are cell parameters like
 * any other (in the record, the bench's cell keys, the report's rows); the cell
 * (harness/run/serve_cell.c) reads them by name and passes them to bin/loadgen. */
#ifndef CB_LOAD_PARAMS_H
#define CB_LOAD_PARAMS_H

#define CB_LOAD_PARAMS                                                                             \
  {"rate", 0, 0, 10000000, "offered requests/s over all connections (open loop); 0: closed loop"}, \
  {"duration_ms", 2000, 100, 3600000, "the generator's measurement window, ms"},                   \
  {"warmup_ms", 250, 0, 600000, "load before the window (checked, not counted), ms"},              \
  {"timeout_ms", 2000, 10, 600000, "a request without its whole reply after this long is a timeout, ms"}

#endif
