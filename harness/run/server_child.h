/* server_child.h — the delayd a cell talks to: one it starts as a child process,
 * or one the user named with --server (loopback only, checked reachable). */
#ifndef CB_SERVER_CHILD_H
#define CB_SERVER_CHILD_H

#include <sys/socket.h>
#include <sys/types.h>

typedef struct cb_server {
  pid_t pid;      /* 0 when the server is not ours */
  char url[256];  /* "http://127.0.0.1:PORT", no trailing slash */
} cb_server;

/* Starts bin/delayd (next to this executable, or $CONCBENCH_DELAYD) on a free
 * loopback port and waits up to 5 s for its URL. 0 or negative errno, err filled.
 * The server is killed when the calling thread ends (PR_SET_PDEATHSIG): call it from
 * the thread that outlives the server, usually the main one. */
int cb_server_start(cb_server *s, char *err, size_t errlen);

/* Checks a user-given URL: http://HOST:PORT with a loopback HOST that accepts a TCP
 * connection within 2 s. 0 or negative errno, err filled. */
int cb_server_use(cb_server *s, const char *url, char *err, size_t errlen);

/* The socket address of s->url, for clients that connect themselves. 0 or -EINVAL. */
int cb_server_addr(const cb_server *s, struct sockaddr_storage *addr, socklen_t *len);

/* Stops a server we started (SIGTERM, then reap). No-op for a user's server. */
void cb_server_stop(cb_server *s);

#endif
