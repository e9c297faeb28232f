/* util.c — see util.h. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"

int cb_parse_int(const char *s, int64_t min, int64_t max, int64_t *out) {
  /* strtoll would skip leading white space: the text must start with the number. */
  if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+')) return -EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end != '\0' || end == s) return -EINVAL;
  if (errno == ERANGE || v < min || v > max) return -ERANGE;
  *out = v;
  return 0;
}

/* One line whatever the message quotes: control characters (a newline in an
 * argument) print as '?'. */
static void usage_line(const char *prog, const char *fmt, va_list ap) {
  char line[1024];
  vsnprintf(line, sizeof line, fmt, ap);
  for (char *c = line; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
  fprintf(stderr, "%s: %s\n", prog, line);
}

void cb_usage_exit(const char *prog, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  usage_line(prog, fmt, ap);
  va_end(ap);
  exit(2);
}

int cb_usage_error(const char *prog, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  usage_line(prog, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

void cb_raise_fd_limit(void) {
  /* Root may raise the hard limit too (up to the kernel's nr_open); everyone may
   * raise the soft limit to the hard one. A libcurl easy transfer holds three
   * descriptors (its socket and its multi handle's wake-up pair), so 10,000
   * concurrent jobs need 30,000. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t want = CB_FD_LIMIT_WANTED;
  if (rl.rlim_max < want) {
    struct rlimit more = {.rlim_cur = want, .rlim_max = want};
    if (setrlimit(RLIMIT_NOFILE, &more) == 0) return;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void cb_scripts_dir(char *out, size_t cap) {
  const char *env = getenv("CONCBENCH_SCRIPTS");
  if (env && *env) {
    snprintf(out, cap, "%s", env);
    return;
  }
  char self[PATH_MAX], probe[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  char *dir = dirname(self);
  /* bin/ is one level below the tree; other variants (build/VARIANT/bin) three; with
   * make OUT=dir/, one or two more. */
  for (int up = 1; up <= 5; up++) {
    size_t used = (size_t)snprintf(out, cap, "%s", dir);
    for (int k = 0; k < up; k++) used += (size_t)snprintf(out + used, cap - used, "/..");
    snprintf(out + used, cap - used, "/scripts");
    snprintf(probe, sizeof probe, "%s/meta.sh", out);
    if (access(probe, R_OK) == 0) return;
  }
  snprintf(out, cap, "%s/../scripts", dir);
}

int cb_program_path(const char *name, const char *env_name, char *out, size_t cap) {
  const char *env = getenv(env_name);
  if (env && *env) {
    snprintf(out, cap, "%s", env);
    return 0;
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -errno;
  self[n] = '\0';
  snprintf(out, cap, "%s/%s", dirname(self), name);
  return 0;
}
