/* The reference limit of the database benchmark: the server of
 * examples/hello-db.ts in C. One epoll loop; a pool of MariaDB connections
 * driven by libmariadb's non-blocking API (mysql_real_query_start/_cont,
 * mysql_store_result_start/_cont), whose sockets sit in the same epoll set
 * as the clients'. Per request:
 *
 *   accept4, epoll_ctl ADD (in), epoll_wait, recv, epoll_ctl DEL,
 *   [a free connection: send "SELECT 1", epoll_wait, recv the result],
 *   send the value, close.
 *
 * A request that finds every connection busy waits in a FIFO until one is
 * free. A query that fails (the database went away) is answered 502.
 *
 *   hello_db [--host 127.0.0.1] [--port 8000] [--db-host 127.0.0.1]
 *            [--db-port 3306] [--user root] [--password ''] [--database '']
 *            [--pool 10]
 *
 * (the options of examples/hello-db.ts: --host and --port are the address
 * it listens on, --db-host and --db-port the database's)
 *
 * Prints "listening on HOST:PORT" once the pool is connected and it accepts
 * connections; exits with status 0 on SIGINT or SIGTERM. Built on first use
 * by bench/build-c.ts with `mariadb_config --cflags --libs` (Debian:
 * libmariadb-dev). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <mysql.h>
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

static const char QUERY[] = "SELECT 1";
static const char BAD_GATEWAY[] = "HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";

enum phase { IDLE, QUERYING, STORING, DEAD };

struct db {
  MYSQL mysql;
  int fd;
  uint32_t interest; /* what the epoll set waits for on fd */
  enum phase phase;
  int client;        /* the connection the running query answers */
  MYSQL_RES *result; /* out-parameter of mysql_store_result_start/_cont */
  int error;         /* out-parameter of mysql_real_query_start/_cont */
};

/* Epoll data: the kind in the high half, the fd or pool index in the low. */
enum kind { LISTENER = 1, CLIENT = 2, DB = 3 };
static uint64_t tag(enum kind kind, uint32_t index) { return (uint64_t)kind << 32 | index; }

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static int ep;
static struct db *pool;
static int pool_size;
static int *free_dbs; /* stack of idle pool indexes */
static int free_count;
/* Clients that asked while every connection was busy, oldest first. */
static int *waiting;
static size_t waiting_cap, waiting_head, waiting_len;

static void ctl(int op, int fd, uint32_t interest, uint64_t data) {
  struct epoll_event ev = {.events = interest, .data.u64 = data};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

static void enqueue(int client) {
  if (waiting_len == waiting_cap) {
    size_t cap = waiting_cap ? 2 * waiting_cap : 64;
    int *grown = malloc(cap * sizeof(int));
    if (grown == NULL) die("malloc");
    for (size_t i = 0; i < waiting_len; i++) grown[i] = waiting[(waiting_head + i) % waiting_cap];
    free(waiting);
    waiting = grown;
    waiting_cap = cap;
    waiting_head = 0;
  }
  waiting[(waiting_head + waiting_len++) % waiting_cap] = client;
}

static int dequeue(void) {
  int client = waiting[waiting_head];
  waiting_head = (waiting_head + 1) % waiting_cap;
  waiting_len--;
  return client;
}

/* The reply is tiny and the socket fresh: it goes out whole in one send. */
static void answer(int client, const char *value) {
  char reply[256];
  const char *out = BAD_GATEWAY;
  size_t len = sizeof(BAD_GATEWAY) - 1;
  if (value != NULL) {
    int n = snprintf(reply, sizeof(reply), "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(value), value);
    if (n > 0 && (size_t)n < sizeof(reply)) {
      out = reply;
      len = (size_t)n;
    }
  }
  (void)send(client, out, len, MSG_NOSIGNAL);
  close(client);
}

/* Makes the epoll set wait for what libmariadb asked for. */
static void want(struct db *db, int status) {
  uint32_t interest = 0;
  if (status & MYSQL_WAIT_READ) interest |= EPOLLIN;
  if (status & MYSQL_WAIT_WRITE) interest |= EPOLLOUT;
  if (status & MYSQL_WAIT_EXCEPT) interest |= EPOLLPRI;
  if (interest == db->interest) return;
  ctl(EPOLL_CTL_MOD, db->fd, interest, tag(DB, (uint32_t)(db - pool)));
  db->interest = interest;
}

static void start_query(struct db *db, int client);

/* Answers the client and hands the connection to the next one waiting. */
static void finish(struct db *db, const char *value) {
  answer(db->client, value);
  db->client = -1;
  if (db->result != NULL) {
    mysql_free_result(db->result);
    db->result = NULL;
  }
  if (db->phase == DEAD) return;
  db->phase = IDLE;
  want(db, MYSQL_WAIT_READ); /* an idle connection that turns readable has been closed */
  if (waiting_len > 0) start_query(db, dequeue());
  else free_dbs[free_count++] = (int)(db - pool);
}

/* Advances the query as far as it goes without blocking. */
static void step(struct db *db, int status) {
  for (;;) {
    if (status != 0) return want(db, status);
    if (db->phase == QUERYING) {
      if (db->error != 0) {
        db->phase = DEAD;
        return finish(db, NULL);
      }
      db->phase = STORING;
      status = mysql_store_result_start(&db->result, &db->mysql);
      continue;
    }
    /* STORING is done: the whole (one-row) result is in memory. */
    MYSQL_ROW row = db->result != NULL ? mysql_fetch_row(db->result) : NULL;
    if (row == NULL || row[0] == NULL) db->phase = DEAD;
    return finish(db, row != NULL ? row[0] : NULL);
  }
}

static void start_query(struct db *db, int client) {
  db->client = client;
  db->phase = QUERYING;
  step(db, mysql_real_query_start(&db->error, &db->mysql, QUERY, sizeof(QUERY) - 1));
}

static void on_db(struct db *db, uint32_t events) {
  if (db->phase == IDLE || db->phase == DEAD) {
    /* Nothing was asked: the server closed the connection. */
    ctl(EPOLL_CTL_DEL, db->fd, 0, 0);
    db->phase = DEAD;
    for (int i = 0; i < free_count; i++) {
      if (free_dbs[i] == (int)(db - pool)) free_dbs[i] = free_dbs[--free_count];
    }
    return;
  }
  int status = 0;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) status |= MYSQL_WAIT_READ;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) status |= MYSQL_WAIT_WRITE;
  if (events & EPOLLPRI) status |= MYSQL_WAIT_EXCEPT;
  if (db->phase == QUERYING) status = mysql_real_query_cont(&db->error, &db->mysql, status);
  else status = mysql_store_result_cont(&db->result, &db->mysql, status);
  step(db, status);
}

static void on_request(int client) {
  char request[4096];
  ssize_t r = recv(client, request, sizeof(request), 0);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  ctl(EPOLL_CTL_DEL, client, 0, 0);
  if (r <= 0) {
    close(client);
    return;
  }
  if (free_count > 0) start_query(&pool[free_dbs[--free_count]], client);
  else {
    int alive = 0;
    for (int i = 0; i < pool_size; i++) alive += pool[i].phase != DEAD;
    if (alive == 0) answer(client, NULL);
    else enqueue(client);
  }
}

static const char *arg(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

int main(int argc, char **argv) {
  static const char *const known[] = {"--host", "--port", "--db-host", "--db-port", "--user", "--password", "--database", "--pool"};
  for (int i = 1; i < argc; i += 2) {
    int ok = 0;
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) ok |= strcmp(argv[i], known[k]) == 0;
    if (!ok || i + 1 >= argc) {
      fprintf(stderr, "usage: hello_db [--host 127.0.0.1] [--port 8000] [--db-host 127.0.0.1] [--db-port 3306] [--user root] [--password ''] [--database ''] [--pool 10]\n");
      return 2;
    }
  }
  const char *host = arg(argc, argv, "--host", "127.0.0.1");
  int port = atoi(arg(argc, argv, "--port", "8000"));
  const char *db_host = arg(argc, argv, "--db-host", "127.0.0.1");
  unsigned db_port = (unsigned)atoi(arg(argc, argv, "--db-port", "3306"));
  const char *user = arg(argc, argv, "--user", "root");
  const char *password = arg(argc, argv, "--password", "");
  const char *database = arg(argc, argv, "--database", "");
  pool_size = atoi(arg(argc, argv, "--pool", "10"));
  if (pool_size < 1) pool_size = 1;

  /* No SA_RESTART: the signal interrupts epoll_wait, which ends the loop. */
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");

  /* The pool connects (blocking) before the server listens. */
  pool = calloc((size_t)pool_size, sizeof(*pool));
  free_dbs = calloc((size_t)pool_size, sizeof(int));
  if (pool == NULL || free_dbs == NULL) die("calloc");
  for (int i = 0; i < pool_size; i++) {
    struct db *db = &pool[i];
    mysql_init(&db->mysql);
    mysql_options(&db->mysql, MYSQL_OPT_NONBLOCK, 0);
    if (mysql_real_connect(&db->mysql, db_host, user, password, *database ? database : NULL, db_port, NULL, 0) == NULL) {
      fprintf(stderr, "hello_db: connecting to %s:%u: %s\n", db_host, db_port, mysql_error(&db->mysql));
      return 1;
    }
    db->fd = mysql_get_socket(&db->mysql);
    db->client = -1;
    db->phase = IDLE;
    db->interest = EPOLLIN;
    ctl(EPOLL_CTL_ADD, db->fd, EPOLLIN, tag(DB, (uint32_t)i));
    free_dbs[free_count++] = i;
  }

  int bound_port;
  int listener = open_listener(host, port, &bound_port);
  ctl(EPOLL_CTL_ADD, listener, EPOLLIN, tag(LISTENER, 0));
  printf("listening on %s:%d\n", host, bound_port);
  fflush(stdout);

  struct epoll_event events[256];
  while (!stopping) {
    int n = wait_events(ep, events, 256);
    for (int i = 0; i < n; i++) {
      enum kind kind = (enum kind)(events[i].data.u64 >> 32);
      uint32_t index = (uint32_t)events[i].data.u64;
      if (kind == LISTENER) {
        int c;
        while ((c = accept_next(listener)) >= 0) ctl(EPOLL_CTL_ADD, c, EPOLLIN, tag(CLIENT, (uint32_t)c));
      } else if (kind == CLIENT) {
        on_request((int)index);
      } else {
        on_db(&pool[index], events[i].events);
      }
    }
  }
  for (int i = 0; i < pool_size; i++) {
    if (pool[i].client >= 0) close(pool[i].client);
    if (pool[i].result != NULL) mysql_free_result(pool[i].result);
    /* A connection in the middle of a query cannot be closed politely. */
    if (pool[i].phase == IDLE) mysql_close(&pool[i].mysql);
    else close(pool[i].fd);
  }
  while (waiting_len > 0) close(dequeue());
  free(waiting);
  free(free_dbs);
  free(pool);
  close(ep);
  close(listener);
  return 0;
}
