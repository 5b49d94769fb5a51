// Configure-time feature tests for binding.gyp: which system calls this
// platform has, decided by compiling and linking a few lines of C against
// the platform's headers and libc, never by OS name (as autoconf would).
// binding.gyp asks for one list per use:
//
//   node native/configure.mjs defines       NS_HAVE_PIPE2=1 ... (native/platform.h reads them)
//   node native/configure.mjs sources       the backend files this platform can build
//   node native/configure.mjs include_dirs  extra include directories (libkqueue)
//   node native/configure.mjs libraries     extra libraries to link (libkqueue)
//
// Environment:
//   NODE_SELECTORS_PORTABLE=1  report none of the Linux-only calls (pipe2,
//       dup3, accept4, SOCK_NONBLOCK/SOCK_CLOEXEC, MSG_NOSIGNAL, ppoll, eventfd,
//       epoll, io_uring, and sys's timerfd, inotify and pidfd_open), so that
//       a Linux build compiles what macOS compiles and the fallbacks run in CI.
//   LIBKQUEUE_DIR=<libkqueue sources>  with PORTABLE, also build the kqueue
//       backend against libkqueue (a user-space kqueue on epoll), built here
//       out of tree with CMake into build-libkqueue/ beside binding.gyp.
//   CC  the C compiler for the tests (default: cc).
//
// Results are cached per environment in build/native-config.json, since gyp
// runs this once per list.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const portable = process.env.NODE_SELECTORS_PORTABLE === '1';
const libkqueueDir = process.env.LIBKQUEUE_DIR ? resolve(root, process.env.LIBKQUEUE_DIR) : '';
const cc = process.env.CC || 'cc';

// Each test: a name, the defines it sets when it links, and a program.
// `linuxOnly` marks what macOS lacks: NODE_SELECTORS_PORTABLE drops those.
const TESTS = [
  {
    name: 'PIPE2',
    linuxOnly: true,
    code: `#include <fcntl.h>
#include <unistd.h>
int main(void) { int f[2]; return pipe2(f, O_NONBLOCK | O_CLOEXEC); }`,
  },
  {
    name: 'DUP3',
    linuxOnly: true,
    code: `#include <fcntl.h>
#include <unistd.h>
int main(void) { return dup3(0, 1, O_CLOEXEC); }`,
  },
  {
    name: 'SOCK_FLAGS',
    linuxOnly: true,
    code: `#include <sys/socket.h>
int main(void) { return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }`,
  },
  {
    name: 'ACCEPT4',
    linuxOnly: true,
    code: `#include <sys/socket.h>
int main(void) { return accept4(0, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC); }`,
  },
  {
    name: 'MSG_NOSIGNAL',
    linuxOnly: true,
    code: `#include <sys/socket.h>
int main(void) { return (int)send(0, "", 0, MSG_NOSIGNAL); }`,
  },
  {
    name: 'SO_NOSIGPIPE',
    code: `#include <sys/socket.h>
int main(void) { int on = 1; return setsockopt(0, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on); }`,
  },
  {
    name: 'PPOLL',
    linuxOnly: true,
    code: `#include <poll.h>
#include <stddef.h>
#include <time.h>
int main(void) { struct timespec t = {0, 0}; return ppoll(NULL, 0, &t, NULL); }`,
  },
  {
    name: 'EVENTFD',
    linuxOnly: true,
    code: `#include <sys/eventfd.h>
int main(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }`,
  },
  {
    name: 'EPOLL',
    linuxOnly: true,
    source: 'native/epoll.cc',
    code: `#include <sys/epoll.h>
int main(void) { return epoll_create1(EPOLL_CLOEXEC); }`,
  },
  {
    name: 'IO_URING',
    linuxOnly: true,
    source: 'native/io_uring.cc',
    code: `#include <linux/io_uring.h>
#include <sys/syscall.h>
int main(void) { struct io_uring_params p; (void)p; return __NR_io_uring_setup + IORING_OP_POLL_ADD; }`,
  },
  {
    name: 'KQUEUE',
    source: 'native/kqueue.cc',
    code: `#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
int main(void) { return kqueue(); }`,
  },
  // The fd toolkit's optional calls, one group per file of native/; each
  // define is read by that file alone (an absent call is not exported and
  // sys.supports(name) says false).
  // -- native/sys_msg.cc
  // -- native/sys_file.cc
  // sendfile has three signatures; each test names the function without
  // calling it first (an undeclared name is an error, where an undeclared
  // call is only a warning in C) and then calls it with exactly its
  // arguments (a wrong count is an error), so that only the platform's own
  // form passes. None: sys_file.cc's pread/write fallback.
  {
    name: 'SENDFILE_LINUX', // sendfile(out, in, &offset, count)
    linuxOnly: true,
    code: `#include <sys/types.h>
#include <sys/sendfile.h>
int main(void) { off_t o = 0; (void)sendfile; return (int)sendfile(1, 0, &o, 1); }`,
  },
  {
    name: 'SENDFILE_FREEBSD', // sendfile(in, out, offset, nbytes, hdtr, &sbytes, flags)
    code: `#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
int main(void) { off_t sb = 0; (void)sendfile; return sendfile(0, 1, 0, 1, (struct sf_hdtr *)0, &sb, 0); }`,
  },
  {
    name: 'SENDFILE_DARWIN', // sendfile(in, out, offset, &len, hdtr, flags)
    code: `#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
int main(void) { off_t len = 1; (void)sendfile; return sendfile(0, 1, 0, &len, (struct sf_hdtr *)0, 0); }`,
  },
  // -- native/sys_tty.cc
  {
    name: 'PTSNAME_R', // else ptsname(), which returns a static buffer
    code: `#include <stdlib.h>
int main(void) { char b[64]; (void)ptsname_r; return ptsname_r(0, b, sizeof b); }`,
  },
  {
    name: 'CFMAKERAW', // else the POSIX flags glibc's cfmakeraw clears, in sys_tty.cc
    code: `#include <termios.h>
int main(void) { struct termios t; (void)cfmakeraw; cfmakeraw(&t); return (int)t.c_lflag; }`,
  },
  {
    // speed_t holds the rate itself (macOS, the BSDs) rather than a code
    // (Linux's B9600 is 015): any rate is passed to the driver as it is.
    name: 'SPEED_IS_BAUD',
    code: `#include <termios.h>
int main(void) { int check[(B9600 == 9600 && B38400 == 38400 && B50 == 50) ? 1 : -1]; check[0] = 0; return check[0]; }`,
  },
  // -- native/sys_linux.cc
  // Linux's event fds (macOS has none; FreeBSD 13 has eventfd in libc).
  {
    name: 'EVENTFD_SEMAPHORE',
    linuxOnly: true,
    code: `#include <sys/eventfd.h>
int main(void) { return eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC); }`,
  },
  {
    name: 'TIMERFD',
    linuxOnly: true,
    code: `#include <sys/timerfd.h>
#include <time.h>
int main(void) {
  struct itimerspec t = {{0, 0}, {0, 1}};
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  return timerfd_settime(fd, 0, &t, 0);
}`,
  },
  {
    name: 'INOTIFY',
    linuxOnly: true,
    code: `#include <sys/inotify.h>
int main(void) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  int wd = inotify_add_watch(fd, ".", IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD | IN_ONESHOT);
  return inotify_rm_watch(fd, wd) + (IN_ISDIR | IN_IGNORED | IN_Q_OVERFLOW | IN_UNMOUNT);
}`,
  },
  {
    // The syscall number in the headers (__NR_pidfd_open, Linux 5.3); the
    // running kernel may still lack it (ENOSYS), which lib/sys/ probes.
    name: 'PIDFD_OPEN',
    linuxOnly: true,
    code: `#include <sys/syscall.h>
#include <unistd.h>
int main(void) { return (int)syscall(SYS_pidfd_open, 1, 0); }`,
  },
  // -- native/spawn.cc
  // The working directory of a spawned process: POSIX 2024's name, else
  // the older _np one (glibc 2.29, macOS 10.15, FreeBSD 13.1). Neither: a
  // cwd throws ERR_NOT_SUPPORTED.
  {
    name: 'SPAWN_ADDCHDIR',
    code: `#include <spawn.h>
int main(void) { posix_spawn_file_actions_t a; (void)posix_spawn_file_actions_addchdir; return posix_spawn_file_actions_addchdir(&a, "/"); }`,
  },
  {
    name: 'SPAWN_ADDCHDIR_NP',
    code: `#include <spawn.h>
int main(void) { posix_spawn_file_actions_t a; (void)posix_spawn_file_actions_addchdir_np; return posix_spawn_file_actions_addchdir_np(&a, "/"); }`,
  },
];

function log(message) {
  process.stderr.write(`node-selectors configure: ${message}\n`);
}

function compiles(code, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'node-selectors-conf-'));
  try {
    writeFileSync(join(dir, 't.c'), `#define _GNU_SOURCE 1\n${code}\n`);
    const r = spawnSync(cc, [join(dir, 't.c'), '-o', join(dir, 't'), ...extraArgs], { stdio: 'ignore' });
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// libkqueue, built out of tree once and installed under build-libkqueue/.
function libkqueue() {
  const build = join(root, 'build-libkqueue');
  const prefix = join(build, 'install');
  const stamp = join(prefix, 'source');
  if (!existsSync(join(libkqueueDir, 'CMakeLists.txt'))) {
    throw new Error(`LIBKQUEUE_DIR=${libkqueueDir} holds no libkqueue sources (no CMakeLists.txt)`);
  }
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === libkqueueDir)) {
    log(`building libkqueue from ${libkqueueDir} (CMake) into ${build}`);
    rmSync(build, { recursive: true, force: true });
    const run = (args) => execFileSync('cmake', args, { stdio: ['ignore', 2, 2] });
    run(['-S', libkqueueDir, '-B', join(build, 'obj'), '-DCMAKE_BUILD_TYPE=Release', '-DENABLE_TESTING=NO',
      '-DCMAKE_POSITION_INDEPENDENT_CODE=ON', `-DCMAKE_INSTALL_PREFIX=${prefix}`, '-DCMAKE_INSTALL_LIBDIR=lib']);
    run(['--build', join(build, 'obj'), '-j2']);
    run(['--install', join(build, 'obj')]);
    writeFileSync(stamp, libkqueueDir);
  }
  return { include: join(prefix, 'include', 'kqueue'), lib: join(prefix, 'lib') };
}

function configure() {
  const key = JSON.stringify({ portable, libkqueueDir, cc });
  const cacheFile = join(root, 'build', 'native-config.json');
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8'));
    if (cached.key === key) return cached.config;
  } catch {
    /* no cache yet */
  }
  const config = { defines: [], sources: [], include_dirs: [], libraries: [] };
  const found = [];
  for (const test of TESTS) {
    if (portable && test.linuxOnly) continue;
    if (test.name === 'KQUEUE' && portable && libkqueueDir) continue; // below
    if (!compiles(test.code)) continue;
    found.push(test.name);
    config.defines.push(`NS_HAVE_${test.name}=1`);
    if (test.source) config.sources.push(test.source);
  }
  if (portable && libkqueueDir) {
    const lk = libkqueue();
    const kq = TESTS.find((t) => t.name === 'KQUEUE');
    // Linked as a shared library (found through an rpath), so that the
    // addon's own undefined symbols (nm -u) stay those of our code, not the
    // epoll and eventfd calls libkqueue makes underneath.
    const link = [`-L${lk.lib}`, '-lkqueue', `-Wl,-rpath,${lk.lib}`];
    if (!compiles(kq.code, [`-I${lk.include}`, ...link])) {
      throw new Error(`libkqueue built in ${lk.lib}, but a program using it does not link`);
    }
    found.push('KQUEUE (libkqueue)');
    config.defines.push('NS_HAVE_KQUEUE=1', 'NS_LIBKQUEUE=1');
    config.sources.push(kq.source);
    config.include_dirs.push(lk.include);
    config.libraries.push(...link);
  } else if (libkqueueDir) {
    log('LIBKQUEUE_DIR is used only with NODE_SELECTORS_PORTABLE=1; ignored');
  }
  if (portable) config.defines.push('NS_PORTABLE=1');
  log(`${portable ? 'portable build; ' : ''}found: ${found.join(', ') || 'none of the optional calls'}`);
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ key, config }));
  return config;
}

const what = process.argv[2];
const config = configure();
if (!Object.hasOwn(config, what)) {
  log(`unknown list '${what}'; one of: ${Object.keys(config).join(', ')}`);
  process.exit(2);
}
process.stdout.write(config[what].join(' ') + '\n');
