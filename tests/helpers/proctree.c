/* proctree.c — see proctree.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/proctree.h"

int proc_stat(pid_t pid, pid_t *ppid, char *comm, size_t cap) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[got] = '\0';
  char *lp = strchr(buf, '('), *rp = strrchr(buf, ')'); /* "pid (comm) state ppid ..." */
  char state;
  int pp;
  if (!lp || !rp || sscanf(rp + 2, "%c %d", &state, &pp) != 2 || state == 'Z' || state == 'X') return 0;
  if (ppid) *ppid = pp;
  if (comm) snprintf(comm, cap, "%.*s", (int)(rp - lp - 1), lp + 1);
  return 1;
}

int proc_alive(pid_t pid) { return proc_stat(pid, NULL, NULL, 0); }

int proc_add_descendants(pid_t root, pid_t *set, int n, int cap) {
  for (int from = -1; from < n; from++) {
    pid_t parent = from < 0 ? root : set[from];
    DIR *d = opendir("/proc");
    if (!d) break;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
      pid_t p = atoi(e->d_name), pp;
      if (p <= 0 || !proc_stat(p, &pp, NULL, 0) || pp != parent) continue;
      int known = 0;
      for (int k = 0; k < n; k++) known |= set[k] == p;
      if (!known) set[n++] = p;
    }
    closedir(d);
  }
  return n;
}
