/* results_load.c — libFuzzer target for the run reader (harness/bench/results.h).
 *
 * The input is a run's cells.jsonl. It is written into a folder of its own and
 * loaded twice: as is, when a damaged line must make the load refuse the run, and
 * with CB_RESULTS_SKIP_DAMAGED, when whatever loads must hold together: no more
 * cells than lines, a cell that verified has timed runs with finite figures, and
 * every question the report asks of a cell (its baseline, its ideal, its wait) can
 * be asked. Run by `make fuzz` (FUZZ_SECONDS each target), not by `make test`. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "harness/bench/results.h"

static char dir[64], path[96];
static int quiet_fd = -1, stderr_fd = -1; /* the reader names every damaged line on stderr */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  snprintf(dir, sizeof dir, "/tmp/cb-fuzz-results-XXXXXX");
  CB_CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/cells.jsonl", dir);
  /* Muted while loading unless CB_FUZZ_VERBOSE is set (to see what a crash input
   * makes the reader say): thousands of damaged-line messages a second. */
  if (!getenv("CB_FUZZ_VERBOSE")) {
    quiet_fd = open("/dev/null", O_WRONLY);
    stderr_fd = dup(STDERR_FILENO);
  }
  return 0;
}

static size_t lines_of(const uint8_t *data, size_t size) {
  size_t n = size > 0 && data[size - 1] != '\n';
  for (size_t k = 0; k < size; k++) n += data[k] == '\n';
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  CB_CHECK(f != NULL);
  CB_CHECK(fwrite(data, 1, size, f) == size);
  CB_CHECK(fclose(f) == 0);

  cb_run_results strict, lenient;
  if (quiet_fd >= 0) dup2(quiet_fd, STDERR_FILENO);
  int rc_strict = cb_results_load(dir, 0, &strict);
  int rc_lenient = cb_results_load(dir, CB_RESULTS_SKIP_DAMAGED, &lenient);
  if (stderr_fd >= 0) dup2(stderr_fd, STDERR_FILENO);
  /* Skipping can only turn a refusal into a load, never the other way round. */
  CB_CHECK(rc_strict != 0 || rc_lenient == 0);
  if (rc_strict == 0) {
    CB_CHECK(strict.ncells == lenient.ncells);
    cb_results_free(&strict);
  }
  if (rc_lenient == 0) {
    CB_CHECK(lenient.ncells <= lines_of(data, size));
    for (size_t k = 0; k < lenient.ncells; k++) {
      const cb_cell_summary *c = &lenient.cells[k];
      if (c->verified) CB_CHECK(c->wall.n > 0 && isfinite(c->wall.median) && c->wall.min <= c->wall.max);
      (void)cb_results_baseline(&lenient, c);
      double ideal = cb_results_ideal(&lenient, c);
      CB_CHECK(ideal == -1 || (ideal >= 0 && isfinite(ideal)));
      (void)cb_results_wait_s(c);
    }
    cb_results_free(&lenient);
  }
  return 0;
}
