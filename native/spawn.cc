// Child processes: spawn, reap one child, and (where kqueue exists) an fd
// that becomes readable when a given process exits. lib/sys/process.ts
// wraps these as sys.spawn, sys.waitpid and sys.kqueueWatchExit;
// lib/reactor/process.ts builds spawnProcess on them.
//
// Spawning is posix_spawn(3), never fork(2): Node is multi-threaded, and a
// forked copy of it could run nothing safely but exec. posix_spawn runs no
// code of ours in the child; its file actions do the stdio plumbing, its
// attributes reset the signal mask (empty) and every signal's disposition
// (SIG_DFL, so that the SIGPIPE and SIGXFSZ Node ignores are not ignored by
// the child), as libuv's uv_spawn does. An exec failure (ENOENT, EACCES,
// ENOEXEC, a chdir that fails) is posix_spawn's return value on glibc 2.24
// and later (it spawns with CLONE_VFORK and reads the child's errno), musl
// (through a close-on-exec pipe), macOS (the kernel spawns) and FreeBSD
// (vfork), so it is thrown here as a system error; an older glibc would
// instead report success and the child would exit with status 127.
//
// Every fd the addon makes is close-on-exec, so the child gets nothing
// beyond its 0, 1 and 2. A source fd below 3 is first copied above 2 (a
// close-on-exec copy, closed again here after the spawn), so that the three
// dup2s can never overwrite a source before it is used, and so that a source
// equal to its target, which dup2 would leave close-on-exec, is still
// handed over.
//
// Platform differences, each by its feature test (native/configure.mjs):
//  - the working directory: posix_spawn_file_actions_addchdir (POSIX 2024),
//    else its older _np form (glibc 2.29, macOS 10.15, FreeBSD 13.1); with
//    neither, a cwd throws ERR_NOT_SUPPORTED.
//  - kqueueWatchExit: only where the kernel's kqueue exists (macOS, the
//    BSDs). Not with libkqueue: the fd its kqueue() returns on Linux is a
//    pipe end that never polls readable when an event is pending (only
//    kevent() sees the event), so it cannot be watched by another selector;
//    sys.supports('kqueueWatchExit') says false there.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#if defined(NS_HAVE_KQUEUE) && !defined(NS_LIBKQUEUE)
#define NS_KQUEUE_WATCH_EXIT 1
#include <sys/event.h>
#include <sys/time.h>
#endif

#include "errors.h"
#include "fast_call.h"
#include "sys.h"

extern char** environ;

namespace selectors {

namespace {

// The stdio codes of spawn's `stdio` argument (lib/sys/process.ts has the same).
constexpr int kStdioIgnore = -1;   // /dev/null
constexpr int kStdioInherit = -2;  // the parent's own fd of that number

// A JS array of strings as NUL-terminated C strings, with a null pointer at
// the end (what execve takes). Throws for a non-string or an embedded NUL.
class CStrings {
 public:
  CStrings(const Napi::Env& env, const Napi::Value& value, const char* what) {
    if (!value.IsArray()) {
      ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", (std::string(what) + " must be an array of strings").c_str());
    }
    Napi::Array array = value.As<Napi::Array>();
    uint32_t n = array.Length();
    storage_.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value item = array.Get(i);
      if (!item.IsString()) {
        ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", (std::string(what) + " must be an array of strings").c_str());
      }
      storage_.push_back(item.As<Napi::String>().Utf8Value());
      if (storage_.back().find('\0') != std::string::npos) {
        ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", (std::string(what) + " must not contain NUL").c_str());
      }
    }
    pointers_.reserve(n + 1);
    for (std::string& s : storage_) pointers_.push_back(&s[0]);
    pointers_.push_back(nullptr);
  }

  char* const* get() { return pointers_.data(); }
  size_t size() const { return storage_.size(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
};

// Owns what one spawn sets up, released on every path out (a C++
// exception included).
struct SpawnState {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  bool have_actions = false;
  bool have_attr = false;
  std::vector<int> temporaries;  // close-on-exec copies of sources below 3

  ~SpawnState() {
    if (have_actions) posix_spawn_file_actions_destroy(&actions);
    if (have_attr) posix_spawnattr_destroy(&attr);
    for (int fd : temporaries) close(fd);
  }
};

// The file actions that put `source` (or /dev/null, or the parent's own fd)
// on `target`. 0, or an error number (posix_spawn's functions return it
// rather than set errno) with *syscall set.
int AddStdio(SpawnState& s, int target, int source, const char** syscall) {
  if (source == kStdioIgnore) {
    *syscall = "posix_spawn_file_actions_addopen";
    return posix_spawn_file_actions_addopen(&s.actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  if (source == kStdioInherit) {
    int flags = fcntl(target, F_GETFD);
    // Closed in the parent: closed in the child too. Open and inheritable:
    // nothing to do. Only a close-on-exec one needs handing over.
    if (flags < 0 || !(flags & FD_CLOEXEC)) return 0;
    source = target;
  }
  if (source < 3) {
    int copy = fcntl(source, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
      *syscall = "fcntl";
      return errno;
    }
    s.temporaries.push_back(copy);
    source = copy;
  }
  *syscall = "posix_spawn_file_actions_adddup2";
  return posix_spawn_file_actions_adddup2(&s.actions, source, target);
}

// spawn(path, argv, env, cwd, stdio): the pid of a new process running
// `path` (no PATH search: lib/sys/process.ts resolves the name) with
// arguments `argv` (argv[0] included) and environment `env` ("K=V"
// strings), in directory `cwd` (a string, or null for ours), its fds 0, 1
// and 2 given by `stdio` (three numbers: an fd, kStdioIgnore or
// kStdioInherit).
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) {
    ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "path must be a non-empty string without NUL");
  }
  CStrings argv(env, info[1], "argv");
  if (argv.size() == 0) ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "argv must hold at least argv[0]");
  CStrings envp(env, info[2], "env");
  bool has_cwd = !info[3].IsNull() && !info[3].IsUndefined();
  std::string cwd;
  if (has_cwd) {
    if (!info[3].IsString()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "cwd must be a string or null");
    cwd = info[3].As<Napi::String>().Utf8Value();
    if (cwd.find('\0') != std::string::npos) ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "cwd must not contain NUL");
  }
  if (!info[4].IsArray() || info[4].As<Napi::Array>().Length() != 3) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "stdio must be an array of three numbers");
  }
  int stdio[3];
  for (uint32_t i = 0; i < 3; i++) {
    Napi::Value v = info[4].As<Napi::Array>().Get(i);
    if (!v.IsNumber()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "stdio must be an array of three numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= kStdioInherit && d <= INT32_MAX) || d != static_cast<double>(static_cast<int>(d))) {
      ThrowRangeError(env, "ERR_OUT_OF_RANGE", "each stdio entry must be an fd, -1 (ignore) or -2 (inherit)");
    }
    stdio[i] = static_cast<int>(d);
  }

#if !defined(NS_HAVE_SPAWN_ADDCHDIR) && !defined(NS_HAVE_SPAWN_ADDCHDIR_NP)
  if (has_cwd) {
    ThrowCodeError(env, "ERR_NOT_SUPPORTED",
                   "sys.spawn's cwd is not supported on this platform: its posix_spawn has no addchdir file action");
  }
#endif

  SpawnState s;
  const char* syscall = "posix_spawn_file_actions_init";
  int err = posix_spawn_file_actions_init(&s.actions);
  if (err != 0) ThrowErrno(env, err, syscall);
  s.have_actions = true;
  syscall = "posix_spawnattr_init";
  err = posix_spawnattr_init(&s.attr);
  if (err != 0) ThrowErrno(env, err, syscall);
  s.have_attr = true;

  // First every copy of a low source, then the dup2s (AddStdio does both in
  // order per target; the copies are made now, in the parent, so a later
  // dup2 onto 0..2 in the child cannot clobber an earlier source).
  for (int i = 0; i < 3 && err == 0; i++) err = AddStdio(s, i, stdio[i], &syscall);
  if (err == 0 && has_cwd) {
#if defined(NS_HAVE_SPAWN_ADDCHDIR)
    syscall = "posix_spawn_file_actions_addchdir";
    err = posix_spawn_file_actions_addchdir(&s.actions, cwd.c_str());
#elif defined(NS_HAVE_SPAWN_ADDCHDIR_NP)
    syscall = "posix_spawn_file_actions_addchdir_np";
    err = posix_spawn_file_actions_addchdir_np(&s.actions, cwd.c_str());
#endif
  }
  if (err == 0) {
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    // SIGKILL and SIGSTOP cannot have their disposition set; some libcs
    // refuse them in the set rather than skip them.
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    syscall = "posix_spawnattr_setsigmask";
    err = posix_spawnattr_setsigmask(&s.attr, &none);
    if (err == 0) {
      syscall = "posix_spawnattr_setsigdefault";
      err = posix_spawnattr_setsigdefault(&s.attr, &all);
    }
    if (err == 0) {
      syscall = "posix_spawnattr_setflags";
      err = posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
  }
  if (err != 0) ThrowErrno(env, err, syscall);

  pid_t pid = 0;
  err = posix_spawn(&pid, path.c_str(), &s.actions, &s.attr, argv.get(), envp.get());
  if (err != 0) ThrowErrno(env, err, "posix_spawn");
  return Napi::Number::New(env, pid);
}

// waitpid(pid, block): reaps process `pid` (a child of ours) if it has
// exited, and only it (never waitpid(-1): Node reaps its own children).
// Returns null while it runs (block false: WNOHANG), else [code, signal]:
// the exit code and null, or null and the number of the signal that ended
// it. ECHILD (not our child, or reaped already) is thrown.
Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = Int32Arg(info, 0);
  if (pid <= 0) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "pid must be a positive integer");
  int options = info[1].ToBoolean().Value() ? 0 : WNOHANG;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, options);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, errno, "waitpid");
  if (r == 0) return env.Null();
  Napi::Array result = Napi::Array::New(env, 2);
  if (WIFEXITED(status)) {
    result.Set(0u, Napi::Number::New(env, WEXITSTATUS(status)));
    result.Set(1u, env.Null());
  } else {
    result.Set(0u, env.Null());
    result.Set(1u, WIFSIGNALED(status) ? Napi::Value(Napi::Number::New(env, WTERMSIG(status))) : env.Null());
  }
  return result;
}

#ifdef NS_KQUEUE_WATCH_EXIT
// kqueueWatchExit(pid): a new kqueue (close-on-exec) holding one EVFILT_PROC
// NOTE_EXIT filter for `pid`, so that the kqueue fd polls readable once the
// process exits: with any selector (a kqueue fd is itself pollable), and
// reaping nothing (the status stays for waitpid). -1 when the process has
// exited already (ESRCH: a zombie is no longer watchable on the BSDs and
// macOS), for the caller to reap now.
Napi::Value KqueueWatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = Int32Arg(info, 0);
  if (pid <= 0) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "pid must be a positive integer");
  int kq = kqueue();
  if (kq < 0) ThrowErrno(env, errno, "kqueue");
  int flags = fcntl(kq, F_GETFD);
  if (flags < 0 || fcntl(kq, F_SETFD, flags | FD_CLOEXEC) < 0) {
    int e = errno;
    close(kq);
    ThrowErrno(env, e, "fcntl");
  }
  struct kevent change;
  EV_SET(&change, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, nullptr);
  int r;
  do {
    r = kevent(kq, &change, 1, nullptr, 0, nullptr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(kq);
    if (e == ESRCH) return Napi::Number::New(env, -1);
    ThrowErrno(env, e, "kevent");
  }
  return Napi::Number::New(env, kq);
}
#endif

}  // namespace

void AddSpawnExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  auto mark = [&](const char* name, bool has) { supported.Set(name, Napi::Boolean::New(env, has)); };
  sys.Set("spawn", Napi::Function::New<Spawn>(env, "spawn"));
  sys.Set("waitpid", Napi::Function::New<Waitpid>(env, "waitpid"));
#ifdef NS_KQUEUE_WATCH_EXIT
  sys.Set("kqueueWatchExit", Napi::Function::New<KqueueWatchExit>(env, "kqueueWatchExit"));
  mark("kqueueWatchExit", true);
#else
  mark("kqueueWatchExit", false);
#endif
}

}  // namespace selectors
