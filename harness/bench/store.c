/* store.c — cells.jsonl, the run's durable log: one JSON record per finished
 * cell, appended (one write, then fsync) the moment the cell finishes, so an
 * interrupted bench loses nothing it finished and, started again, repeats nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/bench/bench.h"
#include "common/check.h"

json_t *cb_store_load(const char *path) {
  json_t *set = json_object();
  FILE *f = fopen(path, "r");
  if (!f) return set;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    json_t *o = json_loads(line, 0, NULL);
    const char *key = json_string_value(json_object_get(o, "key"));
    if (key) json_object_set(set, key, o); /* a torn last line (crash mid-write) is ignored */
    json_decref(o);
  }
  free(line);
  fclose(f);
  return set;
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
