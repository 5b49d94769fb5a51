// The C baseline of the selector micro-benchmarks (bench/micro.ts): the same
// syscalls, in the same loop, as the addon makes for one select(), one
// register+unregister pair or one modify, so that the ratio of the two shows
// what the TypeScript and N-API layers add.
//
//   selectbench OP BACKEND NFDS ITERS
//     OP       select | register | modify
//     BACKEND  epoll | poll | select
//     NFDS     fds registered while measuring: NFDS - 1 idle ones plus the
//              measured one (a pipe's read end, created last so that it has
//              the highest fd number and is found last by poll and select)
//
// select:   write 1 byte to the pipe, wait with a zero timeout (1 fd ready),
//           read the byte back (Kerrisk's method, TLPI section 63.4.5)
// register: add the pipe's read end, then remove it
// modify:   switch its interest between read and read+write
//
// Idle fds are both ends of pipes registered for reading: a pipe's write end
// never becomes readable, so every idle fd costs the kernel a poll and never
// reports anything. Prints one JSON line with CPU and wall nanoseconds per
// operation. The work done per backend mirrors native/{epoll,poll,select}.cc:
// epoll_pwait2/ppoll/pselect with a zero timespec, fcntl(F_GETFD) to refuse
// bad fds where there is no registration syscall, and the same result scans.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define READ 1u
#define WRITE 2u

static void die(const char *what) {
  fprintf(stderr, "selectbench: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(void) {
  fprintf(stderr, "usage: selectbench select|register|modify epoll|poll|select NFDS ITERS\n");
  exit(2);
}

/* ---- one tiny selector per backend, doing what the addon's backend does ---- */

enum backend_kind { EPOLL, POLL, SELECT };

struct sel {
  enum backend_kind kind;
  /* epoll */
  int epfd;
  struct epoll_event *events;
  int capacity;
  /* poll */
  struct pollfd *pfds;
  int npfds;
  int *slot; /* fd -> index in pfds */
  /* select */
  fd_set rset, wset, xset;
  uint8_t interest[FD_SETSIZE];
  int max_fd;
};

static int fd_limit;

static void sel_init(struct sel *s, enum backend_kind kind, int capacity) {
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->capacity = capacity;
  s->max_fd = -1;
  if (kind == EPOLL) {
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) die("epoll_create1");
    s->events = calloc((size_t)capacity, sizeof *s->events);
  } else if (kind == POLL) {
    s->pfds = calloc((size_t)capacity, sizeof *s->pfds);
    s->slot = malloc((size_t)fd_limit * sizeof *s->slot);
    for (int i = 0; i < fd_limit; i++) s->slot[i] = -1;
  }
}

static uint32_t to_epoll(uint32_t events) {
  return ((events & READ) ? EPOLLIN : 0u) | ((events & WRITE) ? EPOLLOUT : 0u);
}

static void epoll_ctl_or_die(struct sel *s, int op, int fd, uint32_t events) {
  struct epoll_event ev = {0};
  ev.events = to_epoll(events);
  ev.data.u64 = (uint32_t)fd | ((uint64_t)events << 32);
  if (epoll_ctl(s->epfd, op, fd, &ev) < 0) die("epoll_ctl");
}

static void sel_add(struct sel *s, int fd, uint32_t events) {
  switch (s->kind) {
    case EPOLL:
      epoll_ctl_or_die(s, EPOLL_CTL_ADD, fd, events);
      break;
    case POLL:
      if (fcntl(fd, F_GETFD) < 0) die("fcntl");
      s->slot[fd] = s->npfds;
      s->pfds[s->npfds++] = (struct pollfd){fd, (short)(((events & READ) ? POLLIN : 0) | ((events & WRITE) ? POLLOUT : 0)), 0};
      break;
    case SELECT:
      if (fd >= FD_SETSIZE) {
        errno = EINVAL;
        die("fd >= FD_SETSIZE");
      }
      if (fcntl(fd, F_GETFD) < 0) die("fcntl");
      if (events & READ) FD_SET(fd, &s->rset);
      if (events & WRITE) FD_SET(fd, &s->wset);
      s->interest[fd] = (uint8_t)events;
      if (fd > s->max_fd) s->max_fd = fd;
      break;
  }
}

static void sel_modify(struct sel *s, int fd, uint32_t events) {
  switch (s->kind) {
    case EPOLL:
      epoll_ctl_or_die(s, EPOLL_CTL_MOD, fd, events);
      break;
    case POLL:
      s->pfds[s->slot[fd]].events = (short)(((events & READ) ? POLLIN : 0) | ((events & WRITE) ? POLLOUT : 0));
      break;
    case SELECT:
      FD_CLR(fd, &s->rset);
      FD_CLR(fd, &s->wset);
      FD_CLR(fd, &s->xset);
      if (events & READ) FD_SET(fd, &s->rset);
      if (events & WRITE) FD_SET(fd, &s->wset);
      s->interest[fd] = (uint8_t)events;
      break;
  }
}

static void sel_remove(struct sel *s, int fd) {
  switch (s->kind) {
    case EPOLL:
      epoll_ctl_or_die(s, EPOLL_CTL_DEL, fd, 0);
      break;
    case POLL: {
      int i = s->slot[fd], last = s->npfds - 1;
      if (i != last) {
        s->pfds[i] = s->pfds[last];
        s->slot[s->pfds[i].fd] = i;
      }
      s->npfds--;
      s->slot[fd] = -1;
      break;
    }
    case SELECT:
      FD_CLR(fd, &s->rset);
      FD_CLR(fd, &s->wset);
      FD_CLR(fd, &s->xset);
      s->interest[fd] = 0;
      while (s->max_fd >= 0 && s->interest[s->max_fd] == 0) s->max_fd--;
      break;
  }
}

static int have_pwait2 = 1;

/* Waits with a zero timeout; returns how many (fd, events) pairs it found. */
static int sel_wait(struct sel *s, int32_t *out) {
  struct timespec zero = {0, 0};
  int count = 0;
  switch (s->kind) {
    case EPOLL: {
      int n = -1;
#ifdef SYS_epoll_pwait2
      if (have_pwait2) {
        n = (int)syscall(SYS_epoll_pwait2, s->epfd, s->events, s->capacity, &zero, NULL, 0);
        if (n < 0 && errno == ENOSYS) have_pwait2 = 0;
      }
#endif
      if (!have_pwait2) n = epoll_wait(s->epfd, s->events, s->capacity, 0);
      if (n < 0) die("epoll_wait");
      for (int i = 0; i < n; i++) {
        uint32_t interest = (uint32_t)(s->events[i].data.u64 >> 32);
        uint32_t ev = s->events[i].events;
        uint32_t r = ((ev & EPOLLIN) ? READ : 0u) | ((ev & EPOLLOUT) ? WRITE : 0u);
        if (ev & (EPOLLERR | EPOLLHUP)) r = READ | WRITE;
        r &= interest;
        if (r == 0) continue;
        out[2 * count] = (int32_t)(s->events[i].data.u64 & 0xffffffffu);
        out[2 * count + 1] = (int32_t)r;
        count++;
      }
      break;
    }
    case POLL: {
      int n = ppoll(s->pfds, (nfds_t)s->npfds, &zero, NULL);
      if (n < 0) die("ppoll");
      for (int i = 0; i < s->npfds && n > 0; i++) {
        short re = s->pfds[i].revents;
        if (re == 0) continue;
        n--;
        out[2 * count] = s->pfds[i].fd;
        out[2 * count + 1] = (int32_t)(((re & POLLIN) ? READ : 0u) | ((re & POLLOUT) ? WRITE : 0u));
        count++;
      }
      break;
    }
    case SELECT: {
      fd_set r = s->rset, w = s->wset, x = s->xset;
      int n = pselect(s->max_fd + 1, &r, &w, &x, &zero, NULL);
      if (n < 0) die("pselect");
      for (int fd = 0; fd <= s->max_fd && n > 0; fd++) {
        int in = FD_ISSET(fd, &r) != 0, wr = FD_ISSET(fd, &w) != 0, ex = FD_ISSET(fd, &x) != 0;
        if (!(in || wr || ex)) continue;
        n -= in + wr + ex;
        out[2 * count] = fd;
        out[2 * count + 1] = (int32_t)(((in ? READ : 0u) | (wr ? WRITE : 0u)) & s->interest[fd]);
        count++;
      }
      break;
    }
  }
  return count;
}

/* ---- the measured loops ---- */

static int ready_r, ready_w;
static struct sel sel;
static int32_t out[2 * 64];

static void op_select(long iters) {
  char byte = 'x';
  for (long i = 0; i < iters; i++) {
    if (write(ready_w, &byte, 1) != 1) die("write");
    int n = sel_wait(&sel, out);
    if (n != 1 || out[0] != ready_r) {
      fprintf(stderr, "selectbench: expected 1 ready fd (%d), got %d\n", ready_r, n);
      exit(3);
    }
    if (read(ready_r, &byte, 1) != 1) die("read");
  }
}

static void op_register(long iters) {
  for (long i = 0; i < iters; i++) {
    sel_add(&sel, ready_r, READ);
    sel_remove(&sel, ready_r);
  }
}

static void op_modify(long iters) {
  for (long i = 0; i < iters; i++) sel_modify(&sel, ready_r, (i & 1) ? READ : READ | WRITE);
}

static int64_t now_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 5) usage();
  const char *op = argv[1], *backend = argv[2];
  long nfds = strtol(argv[3], NULL, 10), iters = strtol(argv[4], NULL, 10);
  if (nfds < 1 || iters < 1) usage();
  enum backend_kind kind;
  if (strcmp(backend, "epoll") == 0) kind = EPOLL;
  else if (strcmp(backend, "poll") == 0) kind = POLL;
  else if (strcmp(backend, "select") == 0) kind = SELECT;
  else usage();
  void (*loop)(long);
  if (strcmp(op, "select") == 0) loop = op_select;
  else if (strcmp(op, "register") == 0) loop = op_register;
  else if (strcmp(op, "modify") == 0) loop = op_modify;
  else usage();

  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) < 0) die("getrlimit");
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  fd_limit = (int)lim.rlim_cur;

  // The addon sizes its ready buffer to the registrations (64 pairs at least).
  sel_init(&sel, kind, (int)(nfds < 64 ? 64 : nfds));
  long idle = nfds - 1;
  int *fds = malloc((size_t)(idle + 1) * sizeof *fds);
  for (long i = 0; i < idle; i += 2) {
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
    fds[i] = p[0];
    fds[i + 1] = p[1];
  }
  for (long i = 0; i < idle; i++) sel_add(&sel, fds[i], READ);
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
  ready_r = p[0];
  ready_w = p[1];
  if (loop != op_register) sel_add(&sel, ready_r, READ);

  loop(iters / 10 + 1);  // warm caches and branch predictors, as the JS side warms its JIT
  int64_t cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), wall0 = now_ns(CLOCK_MONOTONIC);
  loop(iters);
  int64_t cpu1 = now_ns(CLOCK_PROCESS_CPUTIME_ID), wall1 = now_ns(CLOCK_MONOTONIC);
  printf("{\"op\":\"%s\",\"backend\":\"%s\",\"nfds\":%ld,\"iters\":%ld,\"cpuNs\":%.2f,\"wallNs\":%.2f}\n", op,
         backend, nfds, iters, (double)(cpu1 - cpu0) / (double)iters, (double)(wall1 - wall0) / (double)iters);
  return 0;
}
