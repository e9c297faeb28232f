/* ports.h — test helper: a loopback TCP port nobody listens on (bound, then closed). */
#ifndef CB_TEST_PORTS_H
#define CB_TEST_PORTS_H

int unused_loopback_port(void);

#endif
