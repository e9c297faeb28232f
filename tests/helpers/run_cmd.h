/* run_cmd.h — test helper: run a program, capture its output and exit status. */
#ifndef CB_TEST_RUN_CMD_H
#define CB_TEST_RUN_CMD_H

#include <stddef.h>

typedef struct cmd_result {
  int exited;     /* 1 if it exited normally */
  int code;       /* exit code, or the signal number when !exited */
  char *out, *err; /* NUL-terminated, malloc'd */
} cmd_result;

/* Runs argv (argv[0] a path) with a time limit, in its own process group: the group
 * is killed at the limit (code -1) and once the program has exited; the program is
 * killed if the calling thread dies first. */
void run_cmd(char *const argv[], int timeout_s, cmd_result *r);
void cmd_result_free(cmd_result *r);

/* Counts the lines of s. */
int count_lines(const char *s);

#endif
