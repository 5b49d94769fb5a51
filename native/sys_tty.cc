// Terminals, pseudo-terminals and serial lines: openpty, isatty, ttyname,
// termios as plain values, window sizes.
//
// As CPython's Modules/termios.c: tcgetattr gives the flags, the cc array
// and the speeds as plain values, and tcsetattr starts from the tty's
// current settings, so that what JavaScript does not see (Linux's c_line)
// is kept. lib/sys/tty.ts has checked every argument; this file converts
// and re-checks what it must (the cc array's length, a known speed).
//
// Speeds are baud rates on the JavaScript side. Where speed_t holds the
// rate itself (the configure test SPEED_IS_BAUD: B9600 == 9600, as on macOS
// and the BSDs) a rate goes to cfsetospeed as it is and the driver decides;
// elsewhere (Linux: B9600 is 015) it maps through the table of the B*
// constants this platform's headers define, and any other rate is refused.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "fast_call.h"
#include "sys.h"

namespace selectors {

namespace {

struct Speed {
  speed_t code;
  uint32_t baud;
};

// Every standard rate the headers define, ascending.
const Speed kSpeeds[] = {
#define NS_SPEED(rate) {B##rate, rate},
    NS_SPEED(0) NS_SPEED(50) NS_SPEED(75) NS_SPEED(110) NS_SPEED(134) NS_SPEED(150) NS_SPEED(200) NS_SPEED(300)
    NS_SPEED(600) NS_SPEED(1200) NS_SPEED(1800) NS_SPEED(2400) NS_SPEED(4800)
#ifdef B7200
    NS_SPEED(7200)
#endif
    NS_SPEED(9600)
#ifdef B14400
    NS_SPEED(14400)
#endif
    NS_SPEED(19200)
#ifdef B28800
    NS_SPEED(28800)
#endif
    NS_SPEED(38400)
#ifdef B57600
    NS_SPEED(57600)
#endif
#ifdef B76800
    NS_SPEED(76800)
#endif
#ifdef B115200
    NS_SPEED(115200)
#endif
#ifdef B230400
    NS_SPEED(230400)
#endif
#ifdef B460800
    NS_SPEED(460800)
#endif
#ifdef B500000
    NS_SPEED(500000)
#endif
#ifdef B576000
    NS_SPEED(576000)
#endif
#ifdef B921600
    NS_SPEED(921600)
#endif
#ifdef B1000000
    NS_SPEED(1000000)
#endif
#ifdef B1152000
    NS_SPEED(1152000)
#endif
#ifdef B1500000
    NS_SPEED(1500000)
#endif
#ifdef B2000000
    NS_SPEED(2000000)
#endif
#ifdef B2500000
    NS_SPEED(2500000)
#endif
#ifdef B3000000
    NS_SPEED(3000000)
#endif
#ifdef B3500000
    NS_SPEED(3500000)
#endif
#ifdef B4000000
    NS_SPEED(4000000)
#endif
#undef NS_SPEED
};

// The baud rate of a speed_t; -1 for a code outside the table (a custom
// rate another program set, e.g. with Linux's termios2 and BOTHER).
double BaudOf(speed_t code) {
#ifdef NS_HAVE_SPEED_IS_BAUD
  return static_cast<double>(code);
#else
  for (const Speed& s : kSpeeds) {
    if (s.code == code) return s.baud;
  }
  return -1;
#endif
}

// The speed_t of a baud rate; false when this platform has no code for it.
bool CodeOf(double baud, speed_t* code) {
#ifdef NS_HAVE_SPEED_IS_BAUD
  if (!(baud >= 0 && baud <= 4294967295.0)) return false;
  *code = static_cast<speed_t>(baud);
  return true;
#else
  for (const Speed& s : kSpeeds) {
    if (s.baud == baud) {
      *code = s.code;
      return true;
    }
  }
  return false;
#endif
}

// Closes fd keeping errno, for the error paths.
void CloseKeepErrno(int fd) {
  int err = errno;
  close(fd);
  errno = err;
}

// The name of the terminal side of the controller `fd`, into `name`.
// ptsname_r where the configure test found it; else ptsname, whose static
// buffer another thread's ptsname may overwrite (a worker_thread opening a
// pty at the same moment: the window libuv's uv_tty and CPython live with).
int TerminalName(int fd, std::string* name) {
#ifdef NS_HAVE_PTSNAME_R
  char buf[256];
  int err = ptsname_r(fd, buf, sizeof buf);
  // glibc returns the error number; macOS and FreeBSD return -1 and set errno.
  if (err != 0) {
    if (err > 0) errno = err;
    return -1;
  }
  *name = buf;
  return 0;
#else
  const char* p = ptsname(fd);
  if (p == nullptr) return -1;
  *name = p;
  return 0;
#endif
}

// posix_openpt, close-on-exec: in the one call where it takes O_CLOEXEC
// (Linux, FreeBSD), else (macOS says EINVAL to any flag beyond O_RDWR and
// O_NOCTTY) by fcntl right after, leaving the window in which a fork+exec in
// another thread inherits the fd, as platform.h's fallbacks do.
int OpenController(const char** syscall) {
  *syscall = "posix_openpt";
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 && errno == EINVAL) {
    fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
      *syscall = "fcntl";
      CloseKeepErrno(fd);
      return -1;
    }
  }
  if (fd < 0) return -1;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    *syscall = "fcntl";
    CloseKeepErrno(fd);
    return -1;
  }
  return fd;
}

// openpty(): [controller, terminal], both non-blocking and close-on-exec,
// neither made the process's controlling terminal (O_NOCTTY). Nothing is
// left open when a step fails.
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* syscall = nullptr;
  int controller = OpenController(&syscall);
  if (controller < 0) ThrowErrno(env, errno, syscall);
  std::string name;
  if (grantpt(controller) < 0) {
    syscall = "grantpt";
  } else if (unlockpt(controller) < 0) {
    syscall = "unlockpt";
  } else if (TerminalName(controller, &name) < 0) {
    syscall = "ptsname";
  } else {
    int terminal;
    do terminal = open(name.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    while (terminal < 0 && errno == EINTR);
    if (terminal >= 0) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::Number::New(env, controller));
      pair.Set(1u, Napi::Number::New(env, terminal));
      return pair;
    }
    syscall = "open";
  }
  int err = errno;
  close(controller);
  ThrowErrno(env, err, syscall);
}

// isatty(fd): false for an fd that is not a terminal (ENOTTY, or EINVAL on
// some systems); EBADF, an fd that is not open, is an error as everywhere in sys.
Napi::Value IsATty(const Napi::CallbackInfo& info) {
  int fd = Int32Arg(info, 0);
  if (isatty(fd)) return Napi::Boolean::New(info.Env(), true);
  if (errno == EBADF) ThrowErrno(info.Env(), errno, "isatty");
  return Napi::Boolean::New(info.Env(), false);
}

// ttyname(fd): the terminal's path. ttyname_r returns the error number.
Napi::Value TtyName(const Napi::CallbackInfo& info) {
  int fd = Int32Arg(info, 0);
  std::vector<char> buf(256);
  for (;;) {
    int err = ttyname_r(fd, buf.data(), buf.size());
    if (err == 0) return Napi::String::New(info.Env(), buf.data());
    if (err == ERANGE && buf.size() < 65536) {
      buf.resize(buf.size() * 2);
      continue;
    }
    ThrowErrno(info.Env(), err, "ttyname_r");
  }
}

// The flags and cc of `t` as a plain object. The flags are tcflag_t
// (unsigned int on Linux, unsigned long on macOS); every flag defined fits
// 32 bits, and they come as non-negative numbers.
Napi::Object FlagsObject(Napi::Env env, const termios& t) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("iflag", Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(t.c_iflag))));
  out.Set("oflag", Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(t.c_oflag))));
  out.Set("cflag", Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(t.c_cflag))));
  out.Set("lflag", Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(t.c_lflag))));
  Napi::Uint8Array cc = Napi::Uint8Array::New(env, NCCS);
  memcpy(cc.Data(), t.c_cc, NCCS);
  out.Set("cc", cc);
  return out;
}

// tcgetattr(fd): { iflag, oflag, cflag, lflag, cc, ispeed, ospeed }.
Napi::Value TcGetAttr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  termios t;
  if (tcgetattr(Int32Arg(info, 0), &t) < 0) ThrowErrno(env, errno, "tcgetattr");
  Napi::Object out = FlagsObject(env, t);
  out.Set("ispeed", Napi::Number::New(env, BaudOf(cfgetispeed(&t))));
  out.Set("ospeed", Napi::Number::New(env, BaudOf(cfgetospeed(&t))));
  return out;
}

uint32_t FlagField(Napi::Object t, const char* name) {
  Napi::Value v = t.Get(name);
  if (!v.IsNumber()) ThrowTypeError(t.Env(), "ERR_INVALID_ARG_TYPE", "termios flags must be numbers");
  return v.As<Napi::Number>().Uint32Value();
}

[[noreturn]] void ThrowBadSpeed(Napi::Env env, double baud) {
  std::string message = "speed " + std::to_string(static_cast<long long>(baud)) + " is not one this platform has";
  ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", message.c_str());
}

// Copies the plain object `t` (checked by lib/sys/tty.ts) onto `out`, which
// holds the tty's current settings or zeros. Speeds: -1 (the tty's speed is
// outside the table) leaves them as `out` has them; else they are set, and
// a platform that keeps one speed for both directions (glibc: the input
// speed is the output one, or 0 for "the same") refuses two different ones
// rather than quietly change the output speed.
void FromObject(Napi::Env env, Napi::Object t, termios* out) {
  out->c_iflag = FlagField(t, "iflag");
  out->c_oflag = FlagField(t, "oflag");
  out->c_cflag = FlagField(t, "cflag");
  out->c_lflag = FlagField(t, "lflag");
  Napi::Value ccValue = t.Get("cc");
  if (!ccValue.IsTypedArray() || ccValue.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      ccValue.As<Napi::Uint8Array>().ElementLength() != NCCS) {
    ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "cc must be a Uint8Array of NCCS bytes");
  }
  memcpy(out->c_cc, ccValue.As<Napi::Uint8Array>().Data(), NCCS);
  double ispeed = DoubleArg(env, t.Get("ispeed"));
  double ospeed = DoubleArg(env, t.Get("ospeed"));
  speed_t icode = 0;
  speed_t ocode = 0;
  if (ospeed != -1) {
    if (!CodeOf(ospeed, &ocode)) ThrowBadSpeed(env, ospeed);
    if (cfsetospeed(out, ocode) < 0) ThrowErrno(env, errno, "cfsetospeed");
  }
  if (ispeed != -1) {
    if (!CodeOf(ispeed, &icode)) ThrowBadSpeed(env, ispeed);
    if (cfsetispeed(out, icode) < 0) ThrowErrno(env, errno, "cfsetispeed");
  }
  if ((ospeed != -1 && cfgetospeed(out) != ocode) || (ispeed != -1 && icode != 0 && cfgetispeed(out) != icode)) {
    ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "this platform keeps one speed for input and output: ispeed must equal ospeed (or be 0)");
  }
}

// tcsetattr(fd, t, when): from the tty's current settings, t's fields.
Napi::Value TcSetAttr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  if (!info[1].IsObject()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "t must be a Termios object");
  int when = Int32Arg(info, 2);
  if (when != TCSANOW && when != TCSADRAIN && when != TCSAFLUSH) {
    ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "when must be TCSANOW, TCSADRAIN or TCSAFLUSH");
  }
  termios t;
  if (tcgetattr(fd, &t) < 0) ThrowErrno(env, errno, "tcgetattr");
  FromObject(env, info[1].As<Napi::Object>(), &t);
  // EINTR (a signal while TCSADRAIN waits for the output to go) is retried:
  // setting the same attributes twice is harmless.
  int r;
  do r = tcsetattr(fd, when, &t);
  while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, errno, "tcsetattr");
  return env.Undefined();
}

// The C library's cfmakeraw where the configure test found one; else
// glibc's, in POSIX flags.
void MakeRaw(termios* t) {
#ifdef NS_HAVE_CFMAKERAW
  cfmakeraw(t);
#else
  t->c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t->c_oflag &= ~static_cast<tcflag_t>(OPOST);
  t->c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t->c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  t->c_cflag |= CS8;
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
#endif
}

// cfmakeraw(t): the C library's own cfmakeraw applied to a copy of t's
// flags and cc (the C libraries differ: FreeBSD's also clears IXOFF, INPCK,
// NOFLSH, ... and sets IGNBRK), so that the result is this platform's raw
// mode exactly. The speeds are not touched: lib/sys/tty.ts copies them.
Napi::Value CfMakeRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "t must be a Termios object");
  Napi::Object in = info[0].As<Napi::Object>();
  termios t;
  memset(&t, 0, sizeof t);
  t.c_iflag = FlagField(in, "iflag");
  t.c_oflag = FlagField(in, "oflag");
  t.c_cflag = FlagField(in, "cflag");
  t.c_lflag = FlagField(in, "lflag");
  Napi::Value ccValue = in.Get("cc");
  if (!ccValue.IsTypedArray() || ccValue.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      ccValue.As<Napi::Uint8Array>().ElementLength() != NCCS) {
    ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "cc must be a Uint8Array of NCCS bytes");
  }
  memcpy(t.c_cc, ccValue.As<Napi::Uint8Array>().Data(), NCCS);
  MakeRaw(&t);
  Napi::Object out = FlagsObject(env, t);
  return out;
}

// getWindowSize(fd): { rows, cols } (TIOCGWINSZ).
Napi::Value GetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  winsize ws;
  memset(&ws, 0, sizeof ws);
  if (ioctl(Int32Arg(info, 0), TIOCGWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl");
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", Napi::Number::New(env, ws.ws_row));
  out.Set("cols", Napi::Number::New(env, ws.ws_col));
  return out;
}

// setWindowSize(fd, rows, cols) (TIOCSWINSZ), keeping the pixel sizes. The
// kernel sends SIGWINCH to the terminal's foreground process group.
Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  int rows = Int32Arg(info, 1);
  int cols = Int32Arg(info, 2);
  if (rows < 0 || rows > 65535 || cols < 0 || cols > 65535) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "rows and cols must be in 0..65535");
  }
  winsize ws;
  memset(&ws, 0, sizeof ws);
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl");
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl");
  return env.Undefined();
}

}  // namespace

void AddTtyExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  sys.Set("openpty", Napi::Function::New<OpenPty>(env, "openpty"));
  sys.Set("isatty", Napi::Function::New<IsATty>(env, "isatty"));
  sys.Set("ttyname", Napi::Function::New<TtyName>(env, "ttyname"));
  sys.Set("tcgetattr", Napi::Function::New<TcGetAttr>(env, "tcgetattr"));
  sys.Set("tcsetattr", Napi::Function::New<TcSetAttr>(env, "tcsetattr"));
  sys.Set("cfmakeraw", Napi::Function::New<CfMakeRaw>(env, "cfmakeraw"));
  sys.Set("getWindowSize", Napi::Function::New<GetWindowSize>(env, "getWindowSize"));
  sys.Set("setWindowSize", Napi::Function::New<SetWindowSize>(env, "setWindowSize"));
  (void)supported;  // every call here exists on every platform the addon builds for

  Napi::Object c = sys.Get("constants").As<Napi::Object>();
  // Flags as unsigned numbers: macOS's NOFLSH is 0x80000000.
  auto set = [&](const char* name, unsigned long value) {
    c.Set(name, Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(value))));
  };
#define NS_CONST(name) set(#name, name);
  // c_lflag
  NS_CONST(ECHO) NS_CONST(ICANON) NS_CONST(ISIG) NS_CONST(IEXTEN) NS_CONST(ECHOE) NS_CONST(ECHOK)
  NS_CONST(ECHONL) NS_CONST(NOFLSH) NS_CONST(TOSTOP)
  // c_oflag
  NS_CONST(OPOST) NS_CONST(ONLCR)
  // c_iflag
  NS_CONST(ICRNL) NS_CONST(INLCR) NS_CONST(IGNCR) NS_CONST(IXON) NS_CONST(IXOFF) NS_CONST(IXANY)
  NS_CONST(ISTRIP) NS_CONST(INPCK) NS_CONST(PARMRK) NS_CONST(BRKINT) NS_CONST(IGNBRK) NS_CONST(IGNPAR)
  // c_cflag
  NS_CONST(CSIZE) NS_CONST(CS5) NS_CONST(CS6) NS_CONST(CS7) NS_CONST(CS8) NS_CONST(CSTOPB) NS_CONST(CREAD)
  NS_CONST(PARENB) NS_CONST(PARODD) NS_CONST(HUPCL) NS_CONST(CLOCAL)
#ifdef CRTSCTS
  NS_CONST(CRTSCTS)
#endif
  // c_cc indices
  NS_CONST(VMIN) NS_CONST(VTIME) NS_CONST(VINTR) NS_CONST(VQUIT) NS_CONST(VERASE) NS_CONST(VKILL)
  NS_CONST(VEOF) NS_CONST(VSTART) NS_CONST(VSTOP) NS_CONST(VSUSP) NS_CONST(NCCS)
  // tcsetattr's `when`
  NS_CONST(TCSANOW) NS_CONST(TCSADRAIN) NS_CONST(TCSAFLUSH)
#undef NS_CONST
  Napi::Array rates = Napi::Array::New(env);
  uint32_t i = 0;
  for (const Speed& s : kSpeeds) rates.Set(i++, Napi::Number::New(env, s.baud));
  c.Set("BAUD_RATES", rates);
#ifdef NS_HAVE_SPEED_IS_BAUD
  c.Set("SPEED_IS_BAUD", Napi::Boolean::New(env, true));
#else
  c.Set("SPEED_IS_BAUD", Napi::Boolean::New(env, false));
#endif
}

}  // namespace selectors
