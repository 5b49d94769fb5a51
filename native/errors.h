// The one error path of the addon: every failed system call becomes a
// Node-style system error ("EBADF: bad file descriptor, epoll_ctl") carrying
// `code`, `errno` (negative, as Node's own system errors) and `syscall`.
#pragma once

#include <napi.h>

namespace selectors {

// Builds the error object for `err` (a positive errno value) raised by `syscall`.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// Throws ErrnoError as a C++ exception (the addon is built with NAPI_CPP_EXCEPTIONS).
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall);

// A TypeError or RangeError with a Node-style `code` (ERR_INVALID_FD, ...).
[[noreturn]] void ThrowTypeError(Napi::Env env, const char* code, const char* message);
[[noreturn]] void ThrowRangeError(Napi::Env env, const char* code, const char* message);
[[noreturn]] void ThrowCodeError(Napi::Env env, const char* code, const char* message);

// The outcome of a syscall made by backend code that has no Napi::Env at hand:
// 0 on success, else the errno and the name of the call that failed.
struct SysError {
  int err = 0;
  const char* syscall = nullptr;
  explicit operator bool() const { return err != 0; }
};

inline SysError Ok() { return SysError{}; }
inline SysError Fail(int err, const char* syscall) { return SysError{err, syscall}; }

// Throws `e` if it carries an error.
inline void ThrowIf(Napi::Env env, const SysError& e) {
  if (e) ThrowErrno(env, e.err, e.syscall);
}

}  // namespace selectors
