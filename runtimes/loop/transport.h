/* transport.h — asyncio's transports and protocols over libuv streams (TCP and
 * Unix-domain sockets).
 *
 * A protocol is a table of callbacks plus the argument they get; a transport is
 * one connection. The loop calls the protocol (never inline inside a call the
 * protocol made): connection_made once, then data_received / eof_received, and
 * connection_lost exactly once at the end (only if connection_made ran), after
 * which the transport is freed. Writes never block: what the socket does not take
 * at once is copied and queued; when the queue passes the high-water mark the
 * protocol gets pause_writing, and resume_writing once it drains to the low one.
 *
 * Transports and accepted connections are allocated here (one malloc each, freed
 * after connection_lost); servers and connect requests are caller-owned.
 * Incoming data is delivered from one per-loop read buffer, valid only during
 * data_received. Errors: 0 / negative errno. */
#ifndef CB_LOOP_TRANSPORT_H
#define CB_LOOP_TRANSPORT_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>
#include <uv.h>

#include "runtimes/loop/future.h"

typedef struct cb_transport cb_transport;

typedef struct cb_protocol {
  void (*connection_made)(cb_transport *t, void *arg);
  /* data is valid during the call only. */
  void (*data_received)(cb_transport *t, void *arg, const char *data, size_t len);
  /* The peer sent EOF. Return 1 to keep the transport open (half-closed, writes
   * still allowed), 0 to close it. NULL: close. */
  int (*eof_received)(cb_transport *t, void *arg);
  /* err 0: closed by us or after EOF; otherwise why (-ECONNRESET, ...). The
   * transport is freed right after this returns. */
  void (*connection_lost)(cb_transport *t, void *arg, int err);
  void (*pause_writing)(cb_transport *t, void *arg);  /* optional */
  void (*resume_writing)(cb_transport *t, void *arg); /* optional */
} cb_protocol;

enum { CB_TRANSPORT_TCP = 1, CB_TRANSPORT_UNIX = 2 };

#define CB_WRITE_HIGH_DEFAULT (64 * 1024)

struct cb_transport {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
  uv_connect_t connect_req;
  uv_shutdown_t shutdown_req;
  uv_getaddrinfo_t gai; /* client connections: resolving the host */
  cb_loop *loop;
  cb_list link; /* in the loop's list of open transports */
  const cb_protocol *proto;
  void *arg;
  struct cb_connect *connecting; /* the request waiting for this connection */
  struct addrinfo *addrs, *next_addr; /* resolved addresses, the next one to try */
  size_t high, low;    /* write-buffer water marks, bytes */
  unsigned nwrites;    /* queued write requests */
  int err;             /* what connection_lost will report */
  uint8_t kind, made, closing, close_started, eof_wanted, eof_sent, write_paused, reading;
  uint8_t resolving, closed; /* a name lookup outlives the handle: free after both */
};

/* Queues data (copies what the socket does not take now). -EPIPE after close
 * or write_eof. Cost: one send attempt; one malloc only when data is queued. */
int cb_transport_write(cb_transport *t, const void *data, size_t len);
/* Bytes queued, not yet taken by the socket. */
size_t cb_transport_write_buffer_size(const cb_transport *t);
/* high 0: the default (64 KiB); low is high/4 when 0 or above high. */
void cb_transport_set_write_buffer_limits(cb_transport *t, size_t high, size_t low);
/* Half-close after the queued data went out (shutdown). */
void cb_transport_write_eof(cb_transport *t);
/* Closes once the queued data went out; connection_lost(0) follows. */
void cb_transport_close(cb_transport *t);
/* Closes at once, dropping queued data; connection_lost(err) follows. */
void cb_transport_abort(cb_transport *t, int err);
void cb_transport_pause_reading(cb_transport *t);
void cb_transport_resume_reading(cb_transport *t);
int cb_transport_is_closing(const cb_transport *t);
/* The peer's address (TCP: IP and port; Unix: the path, possibly empty). */
int cb_transport_peername(cb_transport *t, struct sockaddr_storage *ss);

/* ---- servers ---- */
/* Picks the protocol of each accepted connection (asyncio's protocol_factory);
 * returns 0, or nonzero to refuse the connection. A NULL factory refuses all. */
typedef int (*cb_protocol_factory)(void *arg, cb_transport *t, const cb_protocol **proto, void **proto_arg);

typedef struct cb_listener {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
  cb_loop *loop;
  cb_protocol_factory factory;
  void *arg;
  cb_future closed; /* completes once the listener is closed (wait_closed) */
  uint8_t kind, open;
  uint64_t accepted;
} cb_listener;

/* Listens on host (a numeric IPv4/IPv6 address or "localhost") and port (0: any
 * free one, see cb_listener_port). Backlog 1024. 0 or negative errno. */
int cb_create_server(cb_loop *loop, cb_listener *s, const char *host, int port, cb_protocol_factory factory,
                     void *arg);
/* Listens on a Unix-domain socket path (an existing file there is an error). */
int cb_create_unix_server(cb_loop *loop, cb_listener *s, const char *path, cb_protocol_factory factory,
                          void *arg);
/* Serves a TCP socket the caller has bound and made listen (e.g. one shared with
 * other servers): the listener works on its own duplicate of fd (closed with the
 * listener; fd stays the caller's) and listens again with the largest backlog the
 * kernel allows. 0 or negative errno. */
int cb_create_server_fd(cb_loop *loop, cb_listener *s, int fd, cb_protocol_factory factory, void *arg);
/* The TCP port the server is bound to, or negative errno. */
int cb_listener_port(cb_listener *s);
/* Stops listening (connections already made stay open); s->closed completes
 * when the listener is closed. */
void cb_listener_close(cb_listener *s);

/* ---- client connections ---- */
typedef struct cb_connect {
  cb_future fut; /* result.p = the cb_transport, connection_made already called */
  cb_handle on_done;
  cb_transport *t; /* while connecting */
} cb_connect;

/* Connects to host:port (numeric or a name, resolved with uv_getaddrinfo), then
 * calls proto->connection_made and completes c->fut with the transport. Errors
 * reach c->fut: -ECONNREFUSED, -ENOENT/-EAI.. (no such host) ... Cancelling fut
 * closes the half-made connection. c is caller-owned; 0 or negative errno. */
int cb_create_connection(cb_loop *loop, cb_connect *c, const char *host, int port, const cb_protocol *proto,
                         void *arg);
int cb_create_unix_connection(cb_loop *loop, cb_connect *c, const char *path, const cb_protocol *proto,
                              void *arg);

#endif
