/* The event-delivery baseline for the reactor: a ping-pong of one byte
 * between two ends, both watched by one epoll instance in one thread, as the
 * reactor's handlers do it. The ends are the two sides of a socketpair, or
 * with --pipes two pipes (a -> b over one, b -> a over the other: each end
 * reads one pipe and writes the other, the cheaper kernel path). Prints the
 * round trips per second of the timed part and the CPU time (user + system)
 * per round trip.
 *
 *   pingpong [--pipes] ROUNDTRIPS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  int pipes = 0;
  long total = 200000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--pipes") == 0) pipes = 1;
    else total = atol(argv[i]);
  }
  /* End k reads rd[k] and writes wr[k]. End 0 echoes; end 1 counts a round
   * trip and serves again. */
  int rd[2], wr[2];
  if (pipes) {
    int ab[2], ba[2];
    if (pipe2(ab, O_NONBLOCK | O_CLOEXEC) < 0 || pipe2(ba, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
    rd[0] = ab[0]; /* b reads what a wrote */
    wr[0] = ba[1]; /* and answers over the other pipe */
    rd[1] = ba[0]; /* a reads the answer */
    wr[1] = ab[1]; /* and serves again */
  } else {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    rd[0] = wr[0] = sv[0];
    rd[1] = wr[1] = sv[1];
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < 2; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, rd[i], &ev) < 0) die("epoll_ctl");
  }
  char byte = 1;
  long count = 0;
  double start = now_s();
  double cpu_start = cpu_s();
  if (write(wr[1], &byte, 1) != 1) die("write");
  struct epoll_event events[64];
  while (count < total) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int end = (int)events[i].data.u32;
      if (read(rd[end], &byte, 1) != 1) continue;
      if (end == 1 && ++count == total) break;
      if (write(wr[end], &byte, 1) != 1) die("write");
    }
  }
  double elapsed = now_s() - start;
  double cpu = cpu_s() - cpu_start;
  printf("{\"transport\": \"%s\", \"roundTrips\": %ld, \"seconds\": %.6f, \"perSecond\": %.0f, \"cpuUsPerRoundTrip\": %.3f}\n",
         pipes ? "pipes" : "socketpair", total, elapsed, total / elapsed, cpu * 1e6 / total);
  return 0;
}
