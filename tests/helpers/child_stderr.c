/* child_stderr.c — see child_stderr.h. */
#include <criterion/criterion.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers/child_stderr.h"

pid_t fork_with_stderr(int *fd) {
  int pfd[2];
  cr_assert_eq(pipe(pfd), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(pfd[1], 2);
    close(pfd[0]);
    close(pfd[1]);
    return 0;
  }
  close(pfd[1]);
  *fd = pfd[0];
  return pid;
}

int wait_with_stderr(pid_t pid, int fd, char *err, size_t errlen) {
  size_t got = 0;
  char rest[256];
  ssize_t r;
  while (got + 1 < errlen && (r = read(fd, err + got, errlen - 1 - got)) > 0) got += (size_t)r;
  err[got] = 0;
  while (read(fd, rest, sizeof rest) > 0) { /* the rest, so the child never blocks on a full pipe */
  }
  close(fd);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return st;
}
