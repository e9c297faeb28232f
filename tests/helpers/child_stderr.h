/* child_stderr.h — test helper: run code in a forked child and collect its stderr and
 * wait status (for code that ends the process, such as an overflow or a refused park).
 *
 *   int fd;
 *   if (fork_with_stderr(&fd) == 0) { ...; _exit(0); }   (the child: stderr is the pipe)
 *   int st = wait_with_stderr(pid, fd, err, sizeof err);  (the parent) */
#ifndef CB_TEST_CHILD_STDERR_H
#define CB_TEST_CHILD_STDERR_H

#include <stddef.h>
#include <sys/types.h>

/* Forks; in the child returns 0 with fd 2 on a pipe, in the parent the child's pid
 * with *fd the pipe's read end. Fails the test if either call fails. */
pid_t fork_with_stderr(int *fd);
/* Reads the child's stderr to its end (the first errlen - 1 bytes kept in err, NUL
 * ended), closes fd, reaps the child; returns its wait status. */
int wait_with_stderr(pid_t pid, int fd, char *err, size_t errlen);

#endif
