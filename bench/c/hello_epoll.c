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
 * With --keep-alive it is the limit of the keep-alive benchmark instead: an
 * HTTP/1.1 server that answers every request of a kept connection, as the
 * keep-alive servers of examples/ and bench/servers/ (support/http1.ts) do:
 *
 *  - each connection has an input buffer of HEADER_LIMIT (8 KiB) bytes; a
 *    request ends at the first "\r\n\r\n" (bodies are not supported: a
 *    hello server is sent none);
 *  - on EPOLLIN (level-triggered) it reads until EAGAIN; after each read it
 *    queues one reply per complete request found, in order, and sends them
 *    all with one send (pipelined requests get their replies in one write);
 *  - what the kernel does not take stays in the connection's output buffer:
 *    the connection then waits for EPOLLOUT only, reading nothing more until
 *    the output is flushed (back-pressure), then waits for EPOLLIN again;
 *  - an HTTP/1.1 request keeps the connection unless it says
 *    "Connection: close"; an HTTP/1.0 one keeps it only with
 *    "Connection: keep-alive", and its reply then says "Connection:
 *    keep-alive" (HTTP10_KEEP_ALIVE_REPLY; an HTTP/1.0 client such as
 *    ab -k waits for the close without it) (RFC 9112 section 9.3);
 *  - it closes the connection on end of stream or an error; after the reply
 *    to a request that does not keep it, ignoring whatever followed it; and when
 *    HEADER_LIMIT bytes arrive without the end of a request, after answering
 *    431 Request Header Fields Too Large.
 *
 * Per request on a kept connection: recv, send, recv (EAGAIN), and a share
 * of an epoll_wait.
 *
 *   hello_epoll [--keep-alive] [--host 127.0.0.1] [--port 8000]
 *
 * Prints "listening on HOST:PORT" once it accepts connections; exits with
 * status 0 on SIGINT or SIGTERM (freeing every connection). Built on first
 * use by bench/build-c.ts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

static const char REPLY[] = "HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

/* ---- one request per connection (the default) ---- */

/* The interest travels in the event data next to the fd, as in the addon's
 * epoll backend: a connection waiting for EPOLLIN has not been answered. */
static uint64_t tag(int fd, uint32_t interest) { return (uint64_t)interest << 32 | (uint32_t)fd; }

static void ctl(int ep, int op, int fd, uint32_t interest) {
  struct epoll_event ev = {.events = interest, .data.u64 = tag(fd, interest)};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

static void drop(int ep, int fd) {
  ctl(ep, EPOLL_CTL_DEL, fd, 0);
  close(fd);
}

static void serve_once_per_connection(int ep, int listener) {
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
}

/* ---- --keep-alive ---- */

/* The longest request (request line and headers) a connection may send. */
#define HEADER_LIMIT 8192

static const char KEEP_ALIVE_REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
static const char HTTP10_KEEP_ALIVE_REPLY[] =
    "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 11\r\n\r\nhello world";
static const char TOO_LARGE[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
#define REPLY_LEN (sizeof(KEEP_ALIVE_REPLY) - 1)
#define HTTP10_REPLY_LEN (sizeof(HTTP10_KEEP_ALIVE_REPLY) - 1)

struct conn {
  int fd;
  uint32_t interest;      /* EPOLLIN, or EPOLLOUT while output is pending */
  bool closing;           /* close once the output is flushed */
  size_t in_len;          /* bytes of a request not complete yet */
  size_t scanned;         /* of those, how many hold no "\r\n\r\n" start */
  char *out;              /* replies not yet taken by the kernel: out[out_off, out_len) */
  size_t out_off, out_len, out_cap;
  struct conn *prev, *next; /* every open connection, to free them at exit */
  char in[HEADER_LIMIT];
};

static struct conn *conns = NULL;

/* Case-insensitive comparison of n bytes with a lower-case ASCII word. */
static bool equals_lower(const char *p, size_t n, const char *word) {
  if (strlen(word) != n) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
    if (ch != (unsigned char)word[i]) return false;
  }
  return true;
}

static bool is_ows(char ch) { return ch == ' ' || ch == '\t'; }

/* What a request asks of its connection. */
enum kind {
  KEEP,        /* kept (HTTP/1.1): KEEP_ALIVE_REPLY */
  KEEP_HTTP10, /* kept (HTTP/1.0 with keep-alive): HTTP10_KEEP_ALIVE_REPLY */
  CLOSE_AFTER, /* closed after its reply, KEEP_ALIVE_REPLY */
};

/* What the request head (request line and headers, up to its "\r\n\r\n")
 * asks: CLOSE_AFTER when it says "Connection: close" or is HTTP/1.0
 * without "Connection: keep-alive"; KEEP_HTTP10 when it is HTTP/1.0 with
 * it; else KEEP. */
static enum kind connection_kind(const char *req, size_t len) {
  const char *end = req + len;
  const char *line = req;
  bool http10 = false;
  bool keep_alive = false;
  bool first = true;
  while (line < end) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL) eol = end;
    const char *stop = (eol > line && eol[-1] == '\r') ? eol - 1 : eol;
    size_t n = (size_t)(stop - line);
    if (first) {
      http10 = n >= 8 && memcmp(stop - 8, "HTTP/1.0", 8) == 0;
      first = false;
    } else if (n > 11 && equals_lower(line, 11, "connection:")) {
      /* A comma-separated list of tokens. */
      const char *p = line + 11;
      while (p < stop) {
        while (p < stop && (is_ows(*p) || *p == ',')) p++;
        const char *t = p;
        while (p < stop && *p != ',') p++;
        const char *te = p;
        while (te > t && is_ows(te[-1])) te--;
        if (equals_lower(t, (size_t)(te - t), "close")) return CLOSE_AFTER;
        if (equals_lower(t, (size_t)(te - t), "keep-alive")) keep_alive = true;
      }
    }
    line = eol + 1;
  }
  if (!http10) return KEEP;
  return keep_alive ? KEEP_HTTP10 : CLOSE_AFTER;
}

/* Room for n more bytes at the end of the connection's output (compacting
 * or growing it): where to write them, or NULL when out of memory. The
 * caller then adds n to out_len. */
static char *reserve_output(struct conn *c, size_t n) {
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_cap - c->out_len < n && c->out_off > 0) {
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
  }
  if (c->out_cap - c->out_len < n) {
    if (n > SIZE_MAX - c->out_len) return NULL;
    size_t need = c->out_len + n;
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < need) {
      if (cap > SIZE_MAX / 2) return NULL;
      cap *= 2;
    }
    char *grown = realloc(c->out, cap);
    if (grown == NULL) return NULL;
    c->out = grown;
    c->out_cap = cap;
  }
  return c->out + c->out_len;
}

/* 1: every queued byte sent; 0: the kernel's buffer is full; -1: an error. */
static int flush_output(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -1;
    }
    c->out_off += (size_t)w;
  }
  c->out_off = c->out_len = 0;
  return 1;
}

static bool set_interest(int ep, struct conn *c, uint32_t interest) {
  if (c->interest == interest) return true;
  struct epoll_event ev = {.events = interest, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) return false;
  c->interest = interest;
  return true;
}

static void close_conn(int ep, struct conn *c) {
  /* As in the default mode: forget the fd in the epoll set, then close it. */
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (c->prev) c->prev->next = c->next;
  else conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c->out);
  free(c);
}

static void open_conn(int ep, int fd) {
  struct conn *c = malloc(sizeof(*c));
  if (c == NULL) {
    close(fd);
    return;
  }
  c->fd = fd;
  c->interest = EPOLLIN;
  c->closing = false;
  c->in_len = c->scanned = 0;
  c->out = NULL;
  c->out_off = c->out_len = c->out_cap = 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    free(c);
    close(fd);
    return;
  }
  c->prev = NULL;
  c->next = conns;
  if (conns) conns->prev = c;
  conns = c;
}

/* Takes every complete request out of the input buffer, queueing a reply to
 * each, in order (all of one read's replies go out with one send). False
 * when out of memory. Sets c->closing after a request that asks
 * to close (what follows it is dropped) or when the buffer is full without
 * the end of a request (answered 431). */
static bool take_requests(struct conn *c) {
  size_t start = 0; /* the first byte of the request being looked at */
  size_t from = c->scanned;
  while (c->in_len - from >= 4) {
    const char *end = memmem(c->in + from, c->in_len - from, "\r\n\r\n", 4);
    if (end == NULL) break;
    size_t stop = (size_t)(end - c->in) + 4;
    enum kind kind = connection_kind(c->in + start, stop - start);
    const char *reply = kind == KEEP_HTTP10 ? HTTP10_KEEP_ALIVE_REPLY : KEEP_ALIVE_REPLY;
    size_t reply_len = kind == KEEP_HTTP10 ? HTTP10_REPLY_LEN : REPLY_LEN;
    char *p = reserve_output(c, reply_len);
    if (p == NULL) return false;
    memcpy(p, reply, reply_len);
    c->out_len += reply_len;
    start = from = stop;
    if (kind == CLOSE_AFTER) {
      c->closing = true;
      break;
    }
  }
  if (c->closing) {
    c->in_len = c->scanned = 0;
  } else {
    size_t rest = c->in_len - start;
    if (start > 0 && rest > 0) memmove(c->in, c->in + start, rest);
    c->in_len = rest;
    c->scanned = rest >= 3 ? rest - 3 : 0;
  }
  if (!c->closing && c->in_len == HEADER_LIMIT) {
    c->closing = true;
    c->in_len = c->scanned = 0;
    char *p = reserve_output(c, sizeof(TOO_LARGE) - 1);
    if (p == NULL) return false;
    memcpy(p, TOO_LARGE, sizeof(TOO_LARGE) - 1);
    c->out_len += sizeof(TOO_LARGE) - 1;
  }
  return true;
}

/* EPOLLIN (or an error or hang-up reported with it): read until EAGAIN,
 * answering what each read completes. */
static void on_readable(int ep, struct conn *c) {
  for (;;) {
    ssize_t r = recv(c->fd, c->in + c->in_len, HEADER_LIMIT - c->in_len, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      close_conn(ep, c); /* ECONNRESET and the like */
      return;
    }
    if (r == 0) {
      close_conn(ep, c);
      return;
    }
    c->in_len += (size_t)r;
    if (!take_requests(c)) {
      close_conn(ep, c);
      return;
    }
    int sent = flush_output(c);
    if (sent < 0) {
      close_conn(ep, c);
      return;
    }
    if (sent == 0) {
      /* Read no more until the replies are out. */
      if (!set_interest(ep, c, EPOLLOUT)) close_conn(ep, c);
      return;
    }
    if (c->closing) {
      close_conn(ep, c);
      return;
    }
  }
}

static void on_writable(int ep, struct conn *c) {
  int sent = flush_output(c);
  if (sent == 0) return;
  if (sent < 0 || c->closing || !set_interest(ep, c, EPOLLIN)) {
    close_conn(ep, c);
    return;
  }
  /* Bytes may have arrived while we were writing: level-triggered EPOLLIN
   * reports them at the next wait. */
}

/* The listener is registered with a NULL data.ptr. */
static void serve_keep_alive(int ep, int listener) {
  struct epoll_event events[256];
  while (!stopping) {
    int n = wait_events(ep, events, 256);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept_next(listener)) >= 0) open_conn(ep, fd);
      } else if (c->interest & EPOLLIN) {
        on_readable(ep, c);
      } else {
        on_writable(ep, c);
      }
    }
  }
  while (conns) close_conn(ep, conns);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 8000;
  bool keep_alive = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keep-alive") == 0) {
      keep_alive = true;
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else {
      fprintf(stderr, "usage: hello_epoll [--keep-alive] [--host 127.0.0.1] [--port 8000]\n");
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
  if (keep_alive) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0) die("epoll_ctl");
  } else {
    ctl(ep, EPOLL_CTL_ADD, listener, EPOLLIN);
  }
  printf("listening on %s:%d\n", host, bound_port);
  fflush(stdout);

  if (keep_alive) serve_keep_alive(ep, listener);
  else serve_once_per_connection(ep, listener);
  close(ep);
  close(listener);
  return 0;
}
