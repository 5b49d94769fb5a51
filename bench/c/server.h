/* What the C hello servers share: dying with errno's message, and the
 * listening socket they open (IPv4, non-blocking, close-on-exec,
 * SO_REUSEADDR). Header-only: each server is one compiled file. */
#ifndef NODE_SELECTORS_BENCH_SERVER_H
#define NODE_SELECTORS_BENCH_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

#endif
