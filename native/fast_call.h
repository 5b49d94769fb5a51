// The calls made for every event — wait, read, write, recv, send — skip
// node-addon-api's CallbackInfo, which asks N-API for six arguments, `this`
// and the function's data on every call, and takes exactly the arguments they
// need. Errors still travel as the Napi C++ exceptions of errors.h: FastCall
// turns one into a pending JavaScript exception at the boundary, as
// node-addon-api does for its own callbacks.
#pragma once

#include <napi.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

namespace selectors {

// A fast call's body: `args` holds exactly N values (undefined for any the
// caller left out) and `argc` says how many the caller passed.
template <size_t N>
using FastBody = napi_value (*)(napi_env env, const napi_value (&args)[N], size_t argc);

template <size_t N, FastBody<N> Body>
napi_value FastCall(napi_env env, napi_callback_info info) {
  napi_value args[N];
  size_t argc = N;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok) return nullptr;
  try {
    return Body(env, args, argc);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// The JavaScript function `name` running Body.
template <size_t N, FastBody<N> Body>
Napi::Function NewFastFunction(Napi::Env env, const char* name) {
  napi_value fn;
  napi_status status = napi_create_function(env, name, NAPI_AUTO_LENGTH, FastCall<N, Body>, nullptr, &fn);
  NAPI_THROW_IF_FAILED(env, status, Napi::Function());
  return Napi::Function(env, fn);
}

// A small integer result: a Smi, which needs no heap number.
inline napi_value Int32Result(napi_env env, int32_t value) {
  napi_value result = nullptr;
  napi_create_int32(env, value, &result);
  return result;
}

// Number arguments; anything else is a TypeError (lib/ never passes one).
inline int32_t Int32Arg(napi_env env, napi_value value) {
  int32_t result;
  if (napi_get_value_int32(env, value, &result) != napi_ok) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "a number was expected");
  }
  return result;
}

// The same for the calls that take a CallbackInfo.
inline int32_t Int32Arg(const Napi::CallbackInfo& info, size_t index) { return Int32Arg(info.Env(), info[index]); }

inline double DoubleArg(napi_env env, napi_value value) {
  double result;
  if (napi_get_value_double(env, value, &result) != napi_ok) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "a number was expected");
  }
  return result;
}

}  // namespace selectors
