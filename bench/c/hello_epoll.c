/* The reference limit of the hello-world benchmark: the server of
 * examples/hello.ts in C, making the same system calls in the same order per
 * request, so that the difference is what Node and the addon cost:
 *
 *   accept4 (until EAGAIN), epoll_ctl ADD (in), epoll_wait, recv,
 *   epoll_ctl MOD (out), epoll_wait, send, epoll_ctl DEL, close.
 *
 * (close alone would drop the fd from the epoll set; the DEL is kept because
 * a selector must forget the fd before closing it, and so does hello.ts.)
 *
 *   hello_epoll [--host 127.0.0.1] [--port 8000]
 *
 * Prints "listening on HOST:PORT" once it accepts connections; exits with
 * status 0 on SIGINT or SIGTERM. Built on first use by bench/build-c.ts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

static const char REPLY[] = "HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";

/* The interest travels in the event data next to the fd, as in the addon's
 * epoll backend: a connection waiting for EPOLLIN has not been answered. */
static uint64_t tag(int fd, uint32_t interest) { return (uint64_t)interest << 32 | (uint32_t)fd; }

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static void ctl(int ep, int op, int fd, uint32_t interest) {
  struct epoll_event ev = {.events = interest, .data.u64 = tag(fd, interest)};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

static void drop(int ep, int fd) {
  ctl(ep, EPOLL_CTL_DEL, fd, 0);
  close(fd);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 8000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    else {
      fprintf(stderr, "usage: hello_epoll [--host 127.0.0.1] [--port 8000]\n");
      return 2;
    }
  }

  /* No SA_RESTART: the signal interrupts epoll_wait, which ends the loop. */
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int bound_port;
  int listener = open_listener(host, port, &bound_port);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  ctl(ep, EPOLL_CTL_ADD, listener, EPOLLIN);
  printf("listening on %s:%d\n", host, bound_port);
  fflush(stdout);

  char request[4096];
  struct epoll_event events[256];
  while (!stopping) {
    int n = wait_events(ep, events, 256);
    for (int i = 0; i < n; i++) {
      int fd = (int)(uint32_t)events[i].data.u64;
      uint32_t interest = (uint32_t)(events[i].data.u64 >> 32);
      if (fd == listener) {
        int c;
        while ((c = accept_next(listener)) >= 0) ctl(ep, EPOLL_CTL_ADD, c, EPOLLIN);
      } else if (interest & EPOLLIN) {
        ssize_t r = recv(fd, request, sizeof(request), 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) drop(ep, fd);
        else ctl(ep, EPOLL_CTL_MOD, fd, EPOLLOUT);
      } else {
        ssize_t w = send(fd, REPLY, sizeof(REPLY) - 1, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        drop(ep, fd);
      }
    }
  }
  close(ep);
  close(listener);
  return 0;
}
