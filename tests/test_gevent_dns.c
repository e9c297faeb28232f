/* test_gevent_dns.c — gevent's resolver behaviours (test__socket_dns.py) ported to the
 * hooked getaddrinfo/getnameinfo of green threads (runtimes/green/CONFORMANCE.md).
 * gevent's TestCase._test compares gevent's answer with the standard library's (the
 * same result, or the same error); here the answer inside a green thread (resolved on
 * libuv's thread pool while the green thread parks) with the plain call's outside.
 * Cases that need the external network (gevent skips them without it too) resolve
 * nothing but local names here. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/gevent_port.h"

TestSuite(gevent_dns, .timeout = 60);

typedef struct gai_q {
  char node[64], service[32];
  int family, socktype, protocol, flags;
  int no_hints;
} gai_q;

typedef struct gai_a {
  int rc, n;
  struct addrinfo *res;
} gai_a;

static gai_a ask(const gai_q *q) {
  struct addrinfo hints = {.ai_family = q->family, .ai_socktype = q->socktype, .ai_protocol = q->protocol,
                           .ai_flags = q->flags};
  gai_a a = {0};
  a.rc = getaddrinfo(q->node[0] ? q->node : NULL, q->service[0] ? q->service : NULL, q->no_hints ? NULL : &hints,
                     &a.res);
  for (struct addrinfo *r = a.rc == 0 ? a.res : NULL; r; r = r->ai_next) a.n++;
  return a;
}

static int same_list(const struct addrinfo *x, const struct addrinfo *y) {
  for (; x && y; x = x->ai_next, y = y->ai_next)
    if (x->ai_family != y->ai_family || x->ai_socktype != y->ai_socktype || x->ai_protocol != y->ai_protocol ||
        x->ai_addrlen != y->ai_addrlen || memcmp(x->ai_addr, y->ai_addr, x->ai_addrlen) != 0)
      return 0;
  return x == NULL && y == NULL;
}

struct gai_run {
  const gai_q *q;
  gai_a a;
  gp_bystander *b;
};
static void gai_green(void *p) {
  struct gai_run *r = p;
  r->b->in_call = 1;
  r->a = ask(r->q);
  r->b->in_call = 0;
  r->b->done = 1;
}

/* The answer inside a green thread equals the plain call's. */
static void same_as_plain(const gai_q *q) {
  gai_a plain = ask(q);
  gp_bystander b = {0};
  struct gai_run r = {.q = q, .b = &b};
  gp_run(gai_green, &r, &b);
  cr_expect_eq(r.a.rc, plain.rc, "green: %d (%s), plain: %d (%s)", r.a.rc, gai_strerror(r.a.rc), plain.rc,
               gai_strerror(plain.rc));
  if (plain.rc == 0 && r.a.rc == 0) {
    cr_expect_eq(r.a.n, plain.n);
    cr_expect(same_list(r.a.res, plain.res), "different addresses for %s", q->node);
  }
  if (plain.rc == 0) freeaddrinfo(plain.res);
  if (r.a.rc == 0) freeaddrinfo(r.a.res);
}

/* TestLocalhost: 'localhost' resolves as the system resolver resolves it */
Test(gevent_dns, TestLocalhost_test_localhost) { same_as_plain(&(gai_q){.node = "localhost"}); }
/* Test_getaddrinfo.test_80 / test_int_string: a numeric port */
Test(gevent_dns, Test_getaddrinfo_test_int_string) { same_as_plain(&(gai_q){.node = "localhost", .service = "80"}); }
/* Test_getaddrinfo.test_0: port 0 */
Test(gevent_dns, Test_getaddrinfo_test_0) { same_as_plain(&(gai_q){.node = "localhost", .service = "0"}); }
/* Test_getaddrinfo.test_http: a service name (the services database) */
Test(gevent_dns, Test_getaddrinfo_test_http) { same_as_plain(&(gai_q){.node = "localhost", .service = "http"}); }
/* Test_getaddrinfo.test1: AF_UNSPEC, SOCK_STREAM, proto 0, flags 0 */
Test(gevent_dns, Test_getaddrinfo_test1) {
  same_as_plain(&(gai_q){.node = "localhost", .service = "52", .family = AF_UNSPEC, .socktype = SOCK_STREAM});
}
/* Test_getaddrinfo.test2: AF_INET, SOCK_DGRAM, proto 17 */
Test(gevent_dns, Test_getaddrinfo_test2) {
  same_as_plain(&(gai_q){.node = "localhost", .service = "53", .family = AF_INET, .socktype = SOCK_DGRAM,
                         .protocol = 17});
}
/* TestFamily.test_inet / test_unspec: the family filter */
Test(gevent_dns, TestFamily_test_inet) { same_as_plain(&(gai_q){.node = "localhost", .family = AF_INET}); }
Test(gevent_dns, TestFamily_test_unspec) { same_as_plain(&(gai_q){.node = "localhost", .family = AF_UNSPEC}); }
/* TestFamily.test_badvalue: family 255 -> the same error (EAI_FAMILY) */
Test(gevent_dns, TestFamily_test_badvalue) {
  same_as_plain(&(gai_q){.node = "localhost", .family = 255});
  gai_a a = ask(&(gai_q){.node = "localhost", .family = 255});
  cr_expect_eq(a.rc, EAI_FAMILY);
}
/* TestBadIP '1.2.3.400': not an address; as a numeric host, EAI_NONAME (without
 * AI_NUMERICHOST glibc would ask the DNS servers, the external network) */
Test(gevent_dns, TestBadIP_1_2_3_400) {
  same_as_plain(&(gai_q){.node = "1.2.3.400", .flags = AI_NUMERICHOST});
  gai_a a = ask(&(gai_q){.node = "1.2.3.400", .flags = AI_NUMERICHOST});
  cr_expect_eq(a.rc, EAI_NONAME);
}
/* TestIPv4-style: a numeric address resolves to itself */
Test(gevent_dns, TestEtcHosts_127_0_0_1) { same_as_plain(&(gai_q){.node = "127.0.0.1", .no_hints = 1}); }
/* no node and AI_PASSIVE: the wildcard address */
Test(gevent_dns, Test_getaddrinfo_passive_wildcard) {
  same_as_plain(&(gai_q){.service = "8080", .family = AF_INET, .flags = AI_PASSIVE});
}
/* a service the database does not know (EAI_SERVICE) */
Test(gevent_dns, Test_getaddrinfo_bad_service) {
  same_as_plain(&(gai_q){.node = "localhost", .service = "no-such-service-x", .socktype = SOCK_STREAM});
}

/* ---- TestInterrupted_gethostbyname: resolving does not block the hub (gevent runs
 * the resolver on its thread pool, so a Timeout can interrupt the greenlet). Here:
 * while getaddrinfo runs, other green threads take their turns. ---- */
struct many {
  gp_bystander *b;
  int ok;
};
static void many_lookups(void *p) {
  struct many *m = p;
  m->b->in_call = 1;
  for (int i = 0; i < 50; i++) {
    struct addrinfo *res;
    if (getaddrinfo("localhost", "80", NULL, &res) == 0) {
      m->ok++;
      freeaddrinfo(res);
    }
  }
  m->b->in_call = 0;
  m->b->done = 1;
}
Test(gevent_dns, TestInterrupted_gethostbyname_resolving_parks_only_its_caller) {
  gp_bystander b = {0};
  struct many m = {.b = &b};
  gp_run(many_lookups, &m, &b);
  cr_expect_eq(m.ok, 50);
  cr_expect_gt(b.turns_during, 0, "getaddrinfo blocked the scheduler");
}

/* several green threads resolving at once each get their own answer */
struct conc {
  char port[8];
  int rc;
  int port_seen;
};
static void conc_lookup(void *p) {
  struct conc *c = p;
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
  c->rc = getaddrinfo("127.0.0.1", c->port, &hints, &res);
  if (c->rc == 0) {
    c->port_seen = ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
    freeaddrinfo(res);
  }
}
Test(gevent_dns, concurrent_lookups_each_get_their_answer) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct conc c[16];
  for (int i = 0; i < 16; i++) {
    c[i] = (struct conc){.rc = -1};
    snprintf(c[i].port, sizeof c[i].port, "%d", 1000 + i);
    cr_assert_eq(cb_green_spawn(s, conc_lookup, &c[i], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  for (int i = 0; i < 16; i++) {
    cr_expect_eq(c[i].rc, 0);
    cr_expect_eq(c[i].port_seen, 1000 + i);
  }
  cb_green_sched_free(s);
}

/* ---- getnameinfo (Test_getnameinfo_127001, Test_getnameinfo_fail) ---- */
typedef struct gni_q {
  char addr[32];
  int port, flags;
} gni_q;
typedef struct gni_a {
  int rc;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
} gni_a;
static gni_a gni_ask(const gni_q *q) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)q->port)};
  cr_assert_eq(inet_pton(AF_INET, q->addr, &sa.sin_addr), 1);
  gni_a a = {0};
  a.rc = getnameinfo((struct sockaddr *)&sa, sizeof sa, a.host, sizeof a.host, a.serv, sizeof a.serv, q->flags);
  return a;
}
struct gni_run {
  const gni_q *q;
  gni_a a;
  gp_bystander *b;
};
static void gni_green(void *p) {
  struct gni_run *r = p;
  r->b->in_call = 1;
  r->a = gni_ask(r->q);
  r->b->in_call = 0;
  r->b->done = 1;
}
static void gni_same_as_plain(const gni_q *q) {
  gni_a plain = gni_ask(q);
  gp_bystander b = {0};
  struct gni_run r = {.q = q, .b = &b};
  gp_run(gni_green, &r, &b);
  cr_expect_eq(r.a.rc, plain.rc, "green %d, plain %d", r.a.rc, plain.rc);
  if (plain.rc == 0) {
    cr_expect_str_eq(r.a.host, plain.host);
    cr_expect_str_eq(r.a.serv, plain.serv);
  }
}
Test(gevent_dns, Test_getnameinfo_127001_test) { gni_same_as_plain(&(gni_q){"127.0.0.1", 80, 0}); }
Test(gevent_dns, Test_getnameinfo_127001_test_DGRAM) {
  gni_same_as_plain(&(gni_q){"127.0.0.1", 779, 0});
  gni_same_as_plain(&(gni_q){"127.0.0.1", 779, NI_DGRAM});
}
Test(gevent_dns, Test_getnameinfo_127001_test_NOFQDN) { gni_same_as_plain(&(gni_q){"127.0.0.1", 80, NI_NOFQDN}); }
Test(gevent_dns, Test_getnameinfo_127001_test_NAMEREQD) {
  gni_same_as_plain(&(gni_q){"127.0.0.1", 80, NI_NAMEREQD});
}
Test(gevent_dns, Test_getnameinfo_fail_test_bad_flags) { gni_same_as_plain(&(gni_q){"127.0.0.1", 80, 55555555}); }
Test(gevent_dns, Test_getnameinfo_geventorg_test_NUMERICHOST_NUMERICSERV) {
  gni_same_as_plain(&(gni_q){"127.0.0.1", 80, NI_NUMERICHOST | NI_NUMERICSERV});
  gni_a a = gni_ask(&(gni_q){"127.0.0.1", 80, NI_NUMERICHOST | NI_NUMERICSERV});
  cr_expect_str_eq(a.host, "127.0.0.1");
  cr_expect_str_eq(a.serv, "80");
}

/* ---- the same hooks under M:N (green-mn): every worker resolves on the pool, keeps
 * sub-ms sleeps and socket timeouts (each worker's scheduler has its own timerfd and
 * fd notes) ---- */
struct mn_case {
  int sv[2];
  int resolved, timed_out, slept;
};
static void mn_worker_fn(void *p) {
  struct mn_case *t = p;
  struct addrinfo *res;
  if (getaddrinfo("localhost", "80", NULL, &res) == 0) {
    __atomic_add_fetch(&t->resolved, 1, __ATOMIC_RELAXED);
    freeaddrinfo(res);
  }
  int64_t t0 = gp_now_ns();
  usleep(200);
  if (gp_now_ns() - t0 >= 200000) __atomic_add_fetch(&t->slept, 1, __ATOMIC_RELAXED);
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  struct timeval tv = gp_tv_ms(30);
  cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  char c;
  if (recv(sv[0], &c, 1, 0) == -1 && errno == EAGAIN) __atomic_add_fetch(&t->timed_out, 1, __ATOMIC_RELAXED);
  close(sv[0]), close(sv[1]);
}
Test(gevent_dns, hooks_under_m_to_n) {
  cb_green_group *gr;
  cr_assert_eq(cb_green_group_new(2, 0, &gr), 0);
  struct mn_case t = {0};
  for (unsigned i = 0; i < 8; i++) cr_assert_eq(cb_green_group_spawn_on(gr, i % 2, mn_worker_fn, &t, NULL), 0);
  cr_assert_eq(cb_green_group_run(gr), 0);
  cr_expect_eq(t.resolved, 8);
  cr_expect_eq(t.slept, 8);
  cr_expect_eq(t.timed_out, 8);
  cb_green_group_free(gr);
}
