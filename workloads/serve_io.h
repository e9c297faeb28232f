/* serve_io.h — what the server workloads (echo.c, serve.c) share: the sync world's
 * blocking sends and receives on an accepted connection with the idle bound, and
 * the generator's argument vector.
 * Plain calls, so under green they go through the hooks (which honour
 * SO_RCVTIMEO / SO_SNDTIMEO for the calls they park). */
#ifndef CB_SERVE_IO_H
#define CB_SERVE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "workloads/workload.h"

/* A receive or a send that waits idle_ms (> 0) fails with -ETIMEDOUT. 0 or -errno. */
int cb__conn_set_idle(int fd, int64_t idle_ms);

/* Receives up to n bytes: the count, 0 at the peer's EOF, -ETIMEDOUT after the
 * idle bound, or -errno (-ECONNRESET, ...). Counts bytes_in. */
ssize_t cb__conn_recv(int fd, void *buf, size_t n, cb_serve_counts *counts);

/* Sends all n bytes (MSG_NOSIGNAL: a gone peer is -EPIPE, never SIGPIPE): 0,
 * -ETIMEDOUT when the peer took nothing for the idle bound, or -errno. Counts
 * bytes_out. */
int cb__conn_send(int fd, const void *buf, size_t n, cb_serve_counts *counts);

/* After the last reply of a connection the server closes: half-closes and reads
 * what the peer still sends (up to CB__LINGER_MS, or its EOF), so that closing
 * with unread input does not reset the connection and destroy that reply. */
#define CB__LINGER_MS 500
void cb__conn_linger(int fd);

/* argv[n] = the formatted string, held in bufs[n]; returns n + 1. */
int cb__loadgen_arg(char *argv[CB_LOADGEN_ARGS_MAX], char bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN], int n,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
