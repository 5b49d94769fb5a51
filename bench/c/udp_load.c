/* The load generator of the datagram section: one UDP socket connected to
 * the echo server, WINDOW datagrams of SIZE bytes in flight, a new one sent
 * for each echo received, until COUNT echoes came back. A datagram whose echo
 * has not come within TIMEOUT ms counts as lost (loopback loses only when a
 * socket buffer overflows), and its place in the window is taken by a new
 * one. Prints one JSON line: {"sent","received","lost","seconds"}; gives up
 * (exit 1, the line still printed) once more datagrams were lost than COUNT.
 *
 *   udp_load --port PORT [--host 127.0.0.1] [--count 100000] [--window 16] [--size 64] [--timeout-ms 200]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void usage(void) {
  fprintf(stderr, "usage: udp_load --port PORT [--host 127.0.0.1] [--count 100000] [--window 16] [--size 64] [--timeout-ms 200]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  long port = -1, count = 100000, window = 16, size = 64, timeout_ms = 200;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    const char *v = argv[i + 1];
    if (strcmp(argv[i], "--host") == 0) host = v;
    else if (strcmp(argv[i], "--port") == 0) port = atol(v);
    else if (strcmp(argv[i], "--count") == 0) count = atol(v);
    else if (strcmp(argv[i], "--window") == 0) window = atol(v);
    else if (strcmp(argv[i], "--size") == 0) size = atol(v);
    else if (strcmp(argv[i], "--timeout-ms") == 0) timeout_ms = atol(v);
    else usage();
    i++;
  }
  if (port <= 0 || port > 65535 || count <= 0 || window <= 0 || size <= 0 || size > 65507 || timeout_ms <= 0) usage();
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) usage();
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("connect");
  struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) die("setsockopt");

  uint8_t *out = calloc(1, (size_t)size), *in = malloc(65536);
  if (out == NULL || in == NULL) die("malloc");
  memset(out, 'x', (size_t)size);
  long sent = 0, received = 0, lost = 0, in_flight = 0;
  double start = now_s();
  while (received < count && lost <= count) {
    while (in_flight < window && sent - lost < count) {
      if (send(fd, out, (size_t)size, 0) < 0) {
        if (errno == EINTR) continue;
        if (errno == ECONNREFUSED) { lost++; continue; } /* no server (yet): an ICMP error */
        die("send");
      }
      sent++;
      in_flight++;
    }
    ssize_t r = recv(fd, in, 65536, 0);
    if (r >= 0) {
      received++;
      in_flight--;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      lost += in_flight; /* nothing for timeout_ms: what is in flight is gone */
      in_flight = 0;
    } else if (errno == ECONNREFUSED) {
      lost += in_flight;
      in_flight = 0;
    } else if (errno != EINTR) {
      die("recv");
    }
  }
  double seconds = now_s() - start;
  printf("{\"sent\":%ld,\"received\":%ld,\"lost\":%ld,\"seconds\":%.6f}\n", sent, received, lost, seconds);
  return received < count ? 1 : 0;
}
