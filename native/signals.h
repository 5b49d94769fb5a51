// Signals for reactors: a process-wide sigaction handler that wakes the
// reactors that asked for a signal, whichever thread the kernel picks to run
// it, and then chains to the handler that was installed before it (libuv's,
// when Node listens for the signal itself).
//
// Each reactor that handles signals owns a pipe (lib/reactor/signals.ts) and
// watches its read end like any fd; it enters the write end here with the
// signals it wants. The C handler writes the signal number (one byte) to every
// channel that wants it, as Python's signal.set_wakeup_fd and libuv do: the
// write makes the reactor's select return, under run() as under attach(), and
// the reactor runs its callbacks in that pass.
//
// The table is process-wide (signal dispositions are), lock-free where the
// handler reads it, and bounded: kMaxSignalChannels channels (reactors with a
// signal handler, over all threads) and signals 1..kMaxSignalNumber.
#pragma once

#include <napi.h>

namespace selectors {

// How many channels (reactors with a signal handler) the process may have at once.
constexpr int kMaxSignalChannels = 64;
// The highest signal number a channel may watch (bit signum-1 of a 64-bit mask).
constexpr int kMaxSignalNumber = 64;

// The `signals` object of the addon: watch, unwatch, release, reinstall, installed.
Napi::Object SignalExports(Napi::Env env);

}  // namespace selectors
