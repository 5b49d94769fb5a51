/* The limit of the datagram section of the benchmark: a UDP echo server on
 * epoll. Each readable event drains the socket: recvfrom until EAGAIN, every
 * datagram sent back to its sender with sendto. A reply the kernel cannot
 * take at once (EAGAIN: the send buffer is full) is dropped and counted, as
 * the other echo servers of the section do; the load generator counts what
 * never came back, and a run with losses is invalid.
 *
 *   udp_echo [--host 127.0.0.1] [--port 0]
 *
 * Prints `listening on HOST:PORT` once bound; exits on SIGTERM, printing the
 * replies dropped to stderr when there were any. */
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

static volatile sig_atomic_t stop;

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) host = argv[++i];
    else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: udp_echo [--host 127.0.0.1] [--port 0]\n");
      return 2;
    }
  }
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", host);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("bind");
  socklen_t len = sizeof(addr);
  if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) die("getsockname");

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  printf("listening on %s:%d\n", host, ntohs(addr.sin_port));
  fflush(stdout);

  static uint8_t buf[65536];
  long dropped = 0;
  while (!stop) {
    struct epoll_event events[8];
    int n = epoll_wait(ep, events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (;;) {
      struct sockaddr_storage peer;
      socklen_t peer_len = sizeof(peer);
      ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &peer_len);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        die("recvfrom");
      }
      if (sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&peer, peer_len) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) dropped++;
        else if (errno != EINTR && errno != ECONNREFUSED) die("sendto");
      }
    }
  }
  if (dropped) fprintf(stderr, "udp_echo: %ld replies dropped (send buffer full)\n", dropped);
  return 0;
}
