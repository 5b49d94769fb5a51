// The embedded load generator of `npm run bench`: the classic `ab -n N -c C`
// workload (a new TCP connection per HTTP/1.0 request, C of them in flight)
// on one thread with epoll and non-blocking connects, so that it costs less
// CPU per request than ab and does not hide fast servers behind the client.
//
//   loadgen -n REQUESTS -c CONCURRENCY [-r RATE] [-t TIMEOUT_S] http://HOST:PORT/PATH
//
// With -r, connections start at RATE per second at most (the schedule kept
// from the start, to the millisecond; still at most CONCURRENCY in flight):
// a fixed offered rate, so that every server below that rate is measured in
// the same regime instead of the fast ones being limited by the client.
//
// A reply is complete when its headers and Content-Length bytes of body have
// arrived, or at end of stream when there is no Content-Length (as ab
// decides). Connect errors, resets, and streams that end before a whole reply
// count as failed; complete replies whose status is not 200 as non200.
// Prints one JSON line: counts, requests/s, and the generator's own CPU time
// (getrusage), so that the caller can tell when the client is the bottleneck.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum state { IDLE, CONNECTING, READING };


struct conn {
  int fd;
  enum state state;
  int header_done;  // the blank line after the headers has been seen
  int status;       // HTTP status code, 0 until the status line is read
  long content_length;  // -1: none given, read to end of stream
  long body;            // body bytes received so far
  size_t head_len;      // bytes kept in head[] while looking for the end of the headers
  char head[2048];
};

static struct sockaddr_storage addr;
static socklen_t addr_len;
static char request[1024];
static size_t request_len;
static int epfd;
static long started, complete, failed, non200;

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(void) {
  fprintf(stderr, "usage: loadgen -n REQUESTS -c CONCURRENCY [-r RATE] [-t TIMEOUT_S] http://HOST:PORT/PATH\n");
  exit(2);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// Parses http://HOST:PORT/PATH (HOST may be [IPv6]) into addr and request.
static void parse_url(const char *url) {
  if (strncmp(url, "http://", 7) != 0) usage();
  const char *host = url + 7, *host_end, *port = NULL;
  char hostbuf[256];
  if (*host == '[') {
    host_end = strchr(host, ']');
    if (host_end == NULL) usage();
    host++;
    if (host_end[1] == ':') port = host_end + 2;
  } else {
    host_end = host + strcspn(host, ":/");
    if (*host_end == ':') port = host_end + 1;
  }
  size_t hlen = (size_t)(host_end - host);
  if (hlen == 0 || hlen >= sizeof hostbuf) usage();
  memcpy(hostbuf, host, hlen);
  hostbuf[hlen] = '\0';
  char portbuf[16] = "80";
  const char *path = "/";
  if (port != NULL) {
    size_t plen = strcspn(port, "/");
    if (plen == 0 || plen >= sizeof portbuf) usage();
    memcpy(portbuf, port, plen);
    portbuf[plen] = '\0';
    if (port[plen] == '/') path = port + plen;
  } else {
    const char *slash = strchr(host_end, '/');
    if (slash != NULL) path = slash;
  }
  struct addrinfo hints = {0}, *res;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int err = getaddrinfo(hostbuf, portbuf, &hints, &res);
  if (err != 0) {
    fprintf(stderr, "loadgen: %s: %s\n", hostbuf, gai_strerror(err));
    exit(2);
  }
  memcpy(&addr, res->ai_addr, res->ai_addrlen);
  addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  // The request ab sends: HTTP/1.0, so the server closes after replying.
  int n = snprintf(request, sizeof request,
                   "GET %s HTTP/1.0\r\nHost: %s%s%s:%s\r\nUser-Agent: node-selectors-loadgen\r\nAccept: */*\r\n\r\n", path,
                   strchr(hostbuf, ':') ? "[" : "", hostbuf, strchr(hostbuf, ':') ? "]" : "", portbuf);
  if (n < 0 || (size_t)n >= sizeof request) usage();
  request_len = (size_t)n;
}

static void finish(struct conn *c, int ok) {
  if (ok) {
    complete++;
    if (c->status != 200) non200++;
  } else {
    failed++;
  }
  close(c->fd);  // also removes it from the epoll set
  c->fd = -1;
  c->state = IDLE;
}

// Opens the next connection in slot `slot`. A connect that fails at once
// (refused, no ports left) counts as a failed request. The socket is
// registered once, edge-triggered for both directions: the first event says
// the connect finished (writable), later ones that the reply is arriving, so
// no epoll_ctl is needed in between.
static void start(struct conn *conns, uint32_t slot) {
  struct conn *c = &conns[slot];
  started++;
  c->header_done = 0;
  c->status = 0;
  c->content_length = -1;
  c->body = 0;
  c->head_len = 0;
  c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  if (connect(c->fd, (struct sockaddr *)&addr, addr_len) < 0 && errno != EINPROGRESS) {
    finish(c, 0);
    return;
  }
  c->state = CONNECTING;
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLET, .data.u32 = slot};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

// Looks for the status line and Content-Length in the headers read so far.
static void parse_head(struct conn *c) {
  char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
  if (end == NULL) return;
  *end = '\0';
  c->header_done = 1;
  c->body = (long)(c->head_len - (size_t)(end + 4 - c->head));
  if (sscanf(c->head, "HTTP/%*d.%*d %d", &c->status) != 1) c->status = -1;
  for (char *line = strstr(c->head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "content-length:", 15) == 0) c->content_length = strtol(line + 17, NULL, 10);
  }
}

// Handles readiness of a connection; returns when it would block or finished.
static void on_ready(struct conn *c) {
  if (c->state == CONNECTING) {
    // A connect that failed makes this write fail (with the connect's errno),
    // so there is no need to ask SO_ERROR first. A fresh socket's send
    // buffer takes the whole small request at once.
    if (write(c->fd, request, request_len) != (ssize_t)request_len) {
      finish(c, 0);
      return;
    }
    c->state = READING;
    // The reply cannot have come before the request: its arrival is a new
    // edge, reported by a later epoll_wait.
    return;
  }
  char buf[16384];
  for (;;) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // end of stream, or an error such as ECONNRESET
      int whole = n == 0 && c->header_done && (c->content_length < 0 || c->body >= c->content_length);
      finish(c, whole);
      return;
    }
    if (!c->header_done) {
      size_t room = sizeof c->head - 1 - c->head_len, take = (size_t)n < room ? (size_t)n : room;
      memcpy(c->head + c->head_len, buf, take);
      c->head_len += take;
      parse_head(c);
      if (!c->header_done && c->head_len == sizeof c->head - 1) {  // headers too long for us
        finish(c, 0);
        return;
      }
      if (c->header_done) c->body += (long)((size_t)n - take);
    } else {
      c->body += n;
    }
    if (c->header_done && c->content_length >= 0 && c->body >= c->content_length) {
      finish(c, 1);
      return;
    }
  }
}

int main(int argc, char **argv) {
  long requests = 0, concurrency = 0;
  double timeout_s = 60, rate = 0;
  int opt;
  while ((opt = getopt(argc, argv, "n:c:r:t:")) != -1) {
    switch (opt) {
      case 'n': requests = strtol(optarg, NULL, 10); break;
      case 'c': concurrency = strtol(optarg, NULL, 10); break;
      case 'r': rate = strtod(optarg, NULL); if (!(rate > 0)) usage(); break;
      case 't': timeout_s = strtod(optarg, NULL); break;
      default: usage();
    }
  }
  if (optind != argc - 1 || requests < 1 || concurrency < 1 || timeout_s <= 0) usage();
  if (concurrency > requests) concurrency = requests;
  parse_url(argv[optind]);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  struct conn *conns = calloc((size_t)concurrency, sizeof *conns);
  struct epoll_event *events = calloc((size_t)concurrency, sizeof *events);
  if (conns == NULL || events == NULL) die("calloc");

  double cpu0 = cpu_us(), t0 = now_s(), deadline = t0 + timeout_s;
  int timed_out = 0;
  for (;;) {
    // Start what the schedule allows (all of it without -r) in slots whose
    // connection ended, including ones that failed at once.
    double t = now_s();
    long allowed = requests;
    if (rate > 0) {
      allowed = 1 + (long)(rate * (t - t0));
      if (allowed > requests) allowed = requests;
    }
    int idle = 0;
    for (uint32_t i = 0; i < (uint32_t)concurrency && started < requests; i++) {
      while (conns[i].state == IDLE && started < allowed) start(conns, i);
      if (conns[i].state == IDLE) idle = 1;
    }
    if (complete + failed == requests) break;
    double left = deadline - t;
    if (left <= 0) {
      timed_out = 1;
      break;
    }
    int wait_ms = left > 1 ? 1000 : (int)(left * 1000) + 1;
    if (rate > 0 && idle && started < requests) {
      // A free slot waits for the schedule: until the next start is due.
      double due = t0 + (double)started / rate - t;
      int due_ms = due <= 0 ? 0 : (int)(due * 1000) + 1;
      if (due_ms < wait_ms) wait_ms = due_ms;
    }
    int n = epoll_wait(epfd, events, (int)concurrency, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = &conns[events[i].data.u32];
      if (c->state != IDLE) on_ready(c);
    }
  }
  double elapsed = now_s() - t0, cpu = cpu_us() - cpu0;
  long unfinished = requests - complete - failed;  // in flight or never started when time ran out
  printf("{\"requests\":%ld,\"concurrency\":%ld,\"complete\":%ld,\"failed\":%ld,\"non200\":%ld,\"unfinished\":%ld,"
         "\"timedOut\":%s,\"elapsedS\":%.6f,\"requestsPerSecond\":%.1f,\"cpuUs\":%.0f,\"cpuUsPerRequest\":%.3f,"
         "\"cpuUtilization\":%.4f}\n",
         requests, concurrency, complete, failed, non200, unfinished, timed_out ? "true" : "false", elapsed,
         (double)complete / elapsed, cpu, complete + failed > 0 ? cpu / (double)(complete + failed) : 0.0,
         cpu / 1e6 / elapsed);
  return 0;
}
