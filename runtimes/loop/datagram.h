/* datagram.h — UDP endpoints (asyncio's create_datagram_endpoint and
 * DatagramProtocol) on libuv.
 *
 * An endpoint is caller-owned; it may be bound to a local address, connected
 * to a remote one, or both. Received datagrams are delivered from a buffer
 * valid during the call only. Sends never block: what the socket does not take
 * at once is copied and queued (one malloc). */
#ifndef CB_LOOP_DATAGRAM_H
#define CB_LOOP_DATAGRAM_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "runtimes/loop/future.h"

typedef struct cb_datagram cb_datagram;

typedef struct cb_datagram_protocol {
  /* addr: the sender. */
  void (*datagram_received)(cb_datagram *d, void *arg, const char *data, size_t len, const struct sockaddr *addr);
  /* A send or receive failed (e.g. -ECONNREFUSED on a connected endpoint). */
  void (*error_received)(cb_datagram *d, void *arg, int err); /* optional */
  /* After cb_datagram_close; d may be reused or freed from here on. */
  void (*connection_lost)(cb_datagram *d, void *arg, int err); /* optional */
} cb_datagram_protocol;

struct cb_datagram {
  uv_udp_t udp;
  cb_loop *loop;
  const cb_datagram_protocol *proto;
  void *arg;
  cb_future closed; /* completes once closed */
  int connected, open;
  char rbuf[65536];
};

/* local_host NULL: bind nothing (an ephemeral port on first send); remote_host
 * NULL: not connected (sendto needs an address). Hosts are numeric addresses.
 * 0 or negative errno. */
int cb_create_datagram_endpoint(cb_loop *loop, cb_datagram *d, const char *local_host, int local_port,
                                const char *remote_host, int remote_port, const cb_datagram_protocol *proto,
                                void *arg);
/* addr NULL: to the connected remote. 0 or negative errno. */
int cb_datagram_sendto(cb_datagram *d, const void *data, size_t len, const struct sockaddr *addr);
/* The local port, or negative errno. */
int cb_datagram_port(cb_datagram *d);
void cb_datagram_close(cb_datagram *d);

#endif
