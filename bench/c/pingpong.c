/* The event-delivery baseline for the reactor: a ping-pong of one byte
 * between the two ends of a socketpair, both watched by one epoll instance
 * in one thread, as the reactor's handlers do it. Prints the round trips
 * per second of the timed part and the CPU time (user + system) per round trip.
 *
 *   pingpong ROUNDTRIPS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  long total = argc > 1 ? atol(argv[1]) : 200000;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < 2; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sv[i], &ev) < 0) die("epoll_ctl");
  }
  char byte = 1;
  long count = 0;
  double start = now_s();
  double cpu_start = cpu_s();
  if (write(sv[1], &byte, 1) != 1) die("write");
  struct epoll_event events[64];
  while (count < total) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (read(fd, &byte, 1) != 1) continue;
      /* sv[0] echoes; sv[1] counts a round trip and serves again. */
      if (fd == sv[1] && ++count == total) break;
      if (write(fd, &byte, 1) != 1) die("write");
    }
  }
  double elapsed = now_s() - start;
  double cpu = cpu_s() - cpu_start;
  printf("{\"roundTrips\": %ld, \"seconds\": %.6f, \"perSecond\": %.0f, \"cpuUsPerRoundTrip\": %.3f}\n", total, elapsed,
         total / elapsed, cpu * 1e6 / total);
  return 0;
}
