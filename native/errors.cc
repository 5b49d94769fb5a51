#include "errors.h"

#include <string.h>
#include <uv.h>

#include <string>

namespace selectors {

namespace {

// libuv knows the names and Node's wording of every errno Node reports; glibc
// names the rare ones libuv does not map.
std::string ErrnoName(int err) {
  const char* name = uv_err_name(uv_translate_sys_error(err));
  if (name != nullptr && strncmp(name, "Unknown", 7) != 0) return name;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* n = strerrorname_np(err)) return n;
#endif
  return "E" + std::to_string(err);
}

std::string ErrnoMessage(int err) {
  const char* msg = uv_strerror(uv_translate_sys_error(err));
  if (msg != nullptr && strncmp(msg, "Unknown", 7) != 0) return msg;
  return strerror(err);
}

Napi::Error WithCode(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  return error;
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  std::string code = ErrnoName(err);
  std::string message = code + ": " + ErrnoMessage(err) + ", " + syscall;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw ErrnoError(env, err, syscall);
}

void ThrowTypeError(Napi::Env env, const char* code, const char* message) {
  throw WithCode(Napi::TypeError::New(env, message), code);
}

void ThrowRangeError(Napi::Env env, const char* code, const char* message) {
  throw WithCode(Napi::RangeError::New(env, message), code);
}

void ThrowCodeError(Napi::Env env, const char* code, const char* message) {
  throw WithCode(Napi::Error::New(env, message), code);
}

}  // namespace selectors
