/* store.c — cells.jsonl, the run's durable log: one JSON record per finished
 * cell, appended (one write, then fsync) the moment the cell finishes, so an
 * interrupted bench loses nothing it finished and, started again, repeats nothing.
 * A line cut short by a crash (or otherwise damaged) is moved aside on resume and
 * its cell runs again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/bench/bench.h"
#include "common/check.h"
#include "harness/bench/results.h"

/* Writes len bytes to path (appended, or replacing it through path.tmp and a
 * rename) and makes them durable. 0 or negative errno. */
static int write_durable(const char *path, const char *buf, size_t len, int append) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(append ? path : tmp, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) return -errno;
  int rc = write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0 ? 0 : errno ? -errno : -EIO;
  close(fd);
  if (rc == 0 && !append && rename(tmp, path) != 0) rc = -errno;
  if (rc == 0 && !append) { /* the rename itself: fsync the folder */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int dfd = open(!slash ? "." : dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) fsync(dfd), close(dfd);
  }
  return rc;
}

json_t *cb_store_load(const char *path) {
  json_t *set = json_object();
  FILE *f = fopen(path, "r");
  if (!f) return set;
  /* Good lines are kept in `good`, damaged ones (cb_results_check_line: cut short
   * by a crash, not JSON, not a record) in `bad`: when there is any, cells.jsonl is
   * rewritten with the good lines only and the bad ones move to cells.jsonl.damaged,
   * so that the cells they were re-run and the next append starts a line of its own. */
  char *good = NULL, *bad = NULL, *line = NULL, why[320], aside[4096];
  size_t ngood = 0, nbad = 0, cap = 0, lineno = 0;
  FILE *g = open_memstream(&good, &ngood), *b = open_memstream(&bad, &nbad);
  CB_CHECK(g && b);
  int rewrite = 0;
  ssize_t n;
  snprintf(aside, sizeof aside, "%s.damaged", path);
  while ((n = getline(&line, &cap, f)) > 0) {
    lineno++;
    int ended = line[n - 1] == '\n';
    json_t *rec;
    if (cb_results_check_line(line, (size_t)n - ended, ended, &rec, why, sizeof why) == 0) {
      json_object_set_new(set, json_string_value(json_object_get(rec, "key")), rec);
      fwrite(line, 1, (size_t)n - ended, g), fputc('\n', g);
    } else {
      fprintf(stderr, "bench: %s:%zu: %s; moved to %s (a planned cell without a record runs again)\n", path, lineno,
              why, aside);
      fwrite(line, 1, (size_t)n - ended, b), fputc('\n', b);
    }
    rewrite |= !ended; /* a complete last line without its newline gets one */
  }
  free(line);
  fclose(f);
  fclose(g), fclose(b);
  int rc = 0;
  if (nbad > 0 && (rc = write_durable(aside, bad, nbad, 1)) != 0)
    fprintf(stderr, "concbench bench: cannot write %s: %s\n", aside, strerror(-rc));
  else if ((nbad > 0 || rewrite) && (rc = write_durable(path, good, ngood, 0)) != 0)
    fprintf(stderr, "concbench bench: cannot rewrite %s without its damaged lines: %s\n", path, strerror(-rc));
  free(good), free(bad);
  if (rc != 0) json_decref(set);
  return rc == 0 ? set : NULL;
}

int cb_store_append(const char *path, json_t *record) {
  char *line = json_dumps(record, JSON_COMPACT | JSON_REAL_PRECISION(9));
  CB_CHECK(line != NULL);
  size_t len = strlen(line);
  line[len] = '\n'; /* replaces the NUL: one write of the whole line */
  int rc = 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) rc = -errno;
  else {
    if (write(fd, line, len + 1) != (ssize_t)(len + 1)) rc = errno ? -errno : -EIO;
    if (fsync(fd) != 0 && rc == 0) rc = -errno;
    close(fd);
  }
  free(line);
  return rc;
}
