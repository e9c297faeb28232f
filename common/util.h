/* util.h — small parsing helpers shared by the programs. */
#ifndef CB_UTIL_H
#define CB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Parses a whole decimal integer in [min, max], nothing before or after it (no
 * white space). 0 or -EINVAL / -ERANGE. */
int cb_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Bad input: "PROG: message" on stderr, one line, and exit 2 (CB_EXIT_USAGE). */
void cb_usage_exit(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* The same line for a parser whose caller decides the exit: returns -EINVAL. */
int cb_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Raises RLIMIT_NOFILE for servers and many sockets: to CB_FD_LIMIT_WANTED when the
 * process may raise its hard limit (root), else the soft limit to the hard one. */
#define CB_FD_LIMIT_WANTED 262144
void cb_raise_fd_limit(void);

/* The path of one of the project's programs (delayd, loadgen): $ENV_NAME when set
 * and not empty, else NAME next to this executable. 0 or negative errno. */
int cb_program_path(const char *name, const char *env_name, char *out, size_t cap);

/* The scripts folder: $CONCBENCH_SCRIPTS, else the scripts/ of the tree this
 * executable was built in (bin/.. or build/VARIANT/bin/../../..). */
void cb_scripts_dir(char *out, size_t cap);

#endif
