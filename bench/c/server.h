/* What the C hello servers share: dying with errno's message, the
 * listening socket they open (IPv4, non-blocking, close-on-exec,
 * SO_REUSEADDR), their wait and their accept. Header-only: each server is
 * one compiled file. */
#ifndef NODE_SELECTORS_BENCH_SERVER_H
#define NODE_SELECTORS_BENCH_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Listens on host:port (port 0: any free port) and returns the fd, setting
 * *bound_port to the port the kernel gave. Exits on failure (status 2 for a
 * host that is not an IPv4 address, as for other usage errors). */
static int open_listener(const char *host, int port, int *bound_port) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", host);
    exit(2);
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  int on = 1;
  if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) die("setsockopt");
  if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("bind");
  if (listen(listener, SOMAXCONN) < 0) die("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(listener, (struct sockaddr *)&addr, &len) < 0) die("getsockname");
  *bound_port = ntohs(addr.sin_port);
  return listener;
}

/* epoll_wait without a timeout: the number of events, or 0 when a signal
 * interrupted it (the caller then checks its stop flag). */
static int wait_events(int ep, struct epoll_event *events, int max) {
  int n = epoll_wait(ep, events, max, -1);
  if (n >= 0) return n;
  if (errno != EINTR) die("epoll_wait");
  return 0;
}

/* The next pending connection (non-blocking, close-on-exec), or -1 when the
 * queue is empty. A connection reset while it waited (ECONNABORTED) and
 * EINTR are skipped, as libuv and CPython do. */
static int accept_next(int listener) {
  for (;;) {
    int c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) return c;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
    if (errno != EINTR && errno != ECONNABORTED) die("accept4");
  }
}

#endif
