// Runs a command and records the CPU time it used, so that the benchmark can
// say what an external load generator (ab, wrk) costs per request, as the
// embedded one reports for itself. Node cannot read a child's rusage.
//
//   cputime RESULT_FILE COMMAND [ARGS...]
//
// The command inherits stdin, stdout and stderr. Once it exits, RESULT_FILE
// receives one JSON line: {"userUs":..., "sysUs":..., "exitCode":..., "signal":...}.
// cputime exits with the command's status.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cputime RESULT_FILE COMMAND [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("cputime: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "cputime: %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("cputime: wait4");
      return 2;
    }
  }
  FILE *out = fopen(argv[1], "w");
  if (out == NULL) {
    perror("cputime: RESULT_FILE");
    return 2;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  fprintf(out, "{\"userUs\":%ld,\"sysUs\":%ld,\"exitCode\":%d,\"signal\":%d}\n",
          (long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
          (long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec, code, sig);
  if (fclose(out) != 0) {
    perror("cputime: RESULT_FILE");
    return 2;
  }
  return sig ? 128 + sig : code;
}
