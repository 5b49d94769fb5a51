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
//   NODE_SELECTORS_PORTABLE=1  report none of the calls macOS lacks (pipe2,
//       dup3, accept4, SOCK_NONBLOCK/SOCK_CLOEXEC, ppoll, eventfd, epoll,
//       io_uring, kqueue1, and sys's timerfd, inotify and pidfd_open), so that
//       a Linux build compiles what macOS compiles and the fallbacks run in CI. MSG_NOSIGNAL stays: macOS has it too.
//   LIBKQUEUE_DIR=<libkqueue sources>  with PORTABLE, also build the kqueue
//       backend against libkqueue (a user-space kqueue on epoll), built here
//       out of tree with CMake into build-libkqueue/ beside binding.gyp.
//   CC  the C compiler for the tests (default: cc), read as make reads it: a
//       program and its arguments separated by spaces (CC="zig cc -target
//       aarch64-macos" works). A compiler that cannot be started, or that
//       cannot build an empty program, stops the build with its reason: it
//       would otherwise make every feature test "fail" and quietly leave out
//       backends (scripts/check-cross.sh cross-compiles through here).
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
const ccWords = (process.env.CC || 'cc').trim().split(/\s+/);
const cc = ccWords.join(' ');

// Each test: a name, the defines it sets when it links, and a program.
// `macosLacks` marks what macOS's SDK does not have: NODE_SELECTORS_PORTABLE
// drops those, so that the portable build compiles the fallbacks macOS
// compiles (scripts/check-cross.sh shows which tests each target passes).
// `needs` names a test that must have passed first.
const TESTS = [
  {
    name: 'PIPE2',
    macosLacks: true,
    code: `#include <fcntl.h>
#include <unistd.h>
int main(void) { int f[2]; return pipe2(f, O_NONBLOCK | O_CLOEXEC); }`,
  },
  {
    name: 'DUP3',
    macosLacks: true,
    code: `#include <fcntl.h>
#include <unistd.h>
int main(void) { return dup3(0, 1, O_CLOEXEC); }`,
  },
  {
    name: 'SOCK_FLAGS',
    macosLacks: true,
    code: `#include <sys/socket.h>
int main(void) { return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }`,
  },
  {
    name: 'ACCEPT4',
    macosLacks: true,
    code: `#include <sys/socket.h>
int main(void) { return accept4(0, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC); }`,
  },
  {
    // macOS's sys/socket.h has it too (SDK 15.1); native/platform.h says why
    // macOS also sets SO_NOSIGPIPE.
    name: 'MSG_NOSIGNAL',
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
    macosLacks: true,
    code: `#include <poll.h>
#include <stddef.h>
#include <time.h>
int main(void) { struct timespec t = {0, 0}; return ppoll(NULL, 0, &t, NULL); }`,
  },
  {
    name: 'EVENTFD',
    macosLacks: true,
    code: `#include <sys/eventfd.h>
int main(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }`,
  },
  {
    name: 'EPOLL',
    macosLacks: true,
    source: 'native/epoll.cc',
    code: `#include <sys/epoll.h>
int main(void) { return epoll_create1(EPOLL_CLOEXEC); }`,
  },
  {
    name: 'IO_URING',
    macosLacks: true,
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
  {
    // kqueue1(O_CLOEXEC): a close-on-exec kqueue in one call, no window for
    // a fork+exec between kqueue() and fcntl(). FreeBSD 14 has it, and 13.4
    // too (libc.so.7, FBSD_1.7, beside kqueuex(KQUEUE_CLOEXEC), which adds
    // nothing here); NetBSD has had it since 6. macOS and libkqueue lack it:
    // kqueue() + fcntl there.
    name: 'KQUEUE1',
    macosLacks: true,
    needs: 'KQUEUE',
    code: `#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
int main(void) { return kqueue1(O_CLOEXEC); }`,
  },
  // The fd toolkit's optional calls, one group per file of native/; each
  // define is read by that file alone (an absent call is not exported and
  // sys.supports(name) says false).
  // -- native/sys_msg.cc
  {
    // Received fds close-on-exec in the same call (Linux, FreeBSD); else fcntl right after.
    name: 'MSG_CMSG_CLOEXEC',
    linuxOnly: true,
    code: `#include <sys/socket.h>
int main(void) { struct msghdr m = {0}; return (int)recvmsg(0, &m, MSG_CMSG_CLOEXEC); }`,
  },
  {
    // Peer credentials, Linux's form: struct ucred with the pid.
    name: 'SO_PEERCRED',
    linuxOnly: true,
    code: `#include <sys/socket.h>
int main(void) { struct ucred u; socklen_t l = sizeof u; return getsockopt(0, SOL_SOCKET, SO_PEERCRED, &u, &l) + (int)u.pid + (int)u.uid + (int)u.gid; }`,
  },
  {
    // The BSD form (FreeBSD, macOS): struct xucred at level SOL_LOCAL.
    name: 'LOCAL_PEERCRED',
    code: `#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ucred.h>
#include <sys/un.h>
int main(void) { struct xucred x; socklen_t l = sizeof x; return getsockopt(0, SOL_LOCAL, LOCAL_PEERCRED, &x, &l) + (int)x.cr_uid + (int)x.cr_groups[0] + XUCRED_VERSION; }`,
  },
  {
    // FreeBSD 13's xucred carries the peer's pid.
    name: 'XUCRED_CR_PID',
    code: `#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ucred.h>
int main(void) { struct xucred x = {0}; return (int)x.cr_pid; }`,
  },
  {
    // macOS gives the peer's pid as an option of its own.
    name: 'LOCAL_PEERPID',
    code: `#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(void) { pid_t p; socklen_t l = sizeof p; return getsockopt(0, SOL_LOCAL, LOCAL_PEERPID, &p, &l); }`,
  },
  {
    // The last resort: uid and gid, no pid (not in glibc).
    name: 'GETPEEREID',
    code: `#include <sys/types.h>
#include <unistd.h>
int main(void) { uid_t u; gid_t g; return getpeereid(0, &u, &g); }`,
  },
  // -- native/sys_file.cc
  // sendfile has three signatures; each test names the function without
  // calling it first (an undeclared name is an error, where an undeclared
  // call is only a warning in C) and then calls it with exactly its
  // arguments (a wrong count is an error), so that only the platform's own
  // form passes. None: sys_file.cc's pread/write fallback.
  {
    name: 'SENDFILE_LINUX', // sendfile(out, in, &offset, count)
    macosLacks: true,
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
    macosLacks: true,
    code: `#include <sys/eventfd.h>
int main(void) { return eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC); }`,
  },
  {
    name: 'TIMERFD',
    macosLacks: true,
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
    macosLacks: true,
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
    macosLacks: true,
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

// Stops the build: gyp prints this process's stderr and fails.
function fail(message) {
  log(`error: ${message}`);
  process.exit(1);
}

// Compiles and links `code`; returns the compiler's output when it fails,
// '' when it links. A compiler that cannot be started stops the build.
function tryCompile(code, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'node-selectors-conf-'));
  try {
    writeFileSync(join(dir, 't.c'), `#define _GNU_SOURCE 1\n${code}\n`);
    const r = spawnSync(ccWords[0], [...ccWords.slice(1), join(dir, 't.c'), '-o', join(dir, 't'), ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (r.error) {
      const why = r.error.code === 'ENOENT' ? 'no such program' : r.error.message;
      fail(`cannot start the C compiler ${ccWords[0]} (CC="${cc}"): ${why}; set CC to a C compiler (a program and its arguments)`);
    }
    if (r.status === 0) return '';
    return `${r.stdout}${r.stderr}`.trim() || (r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function compiles(code, extraArgs = []) {
  return tryCompile(code, extraArgs) === '';
}

// Every feature test is a program that links or not; a compiler that links
// nothing would turn every answer into "no" and leave out backends quietly.
function checkCompiler() {
  const output = tryCompile('int main(void) { return 0; }');
  if (output !== '') {
    const lines = output.split('\n');
    const shown = lines.slice(0, 8).join('\n  ') + (lines.length > 8 ? '\n  ...' : '');
    fail(`the C compiler CC="${cc}" cannot build an empty program, so no feature test can be trusted:\n  ${shown}`);
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
  checkCompiler();
  const config = { defines: [], sources: [], include_dirs: [], libraries: [] };
  const found = [];
  for (const test of TESTS) {
    if (portable && test.macosLacks) continue;
    if (test.name === 'KQUEUE' && portable && libkqueueDir) continue; // below
    if (test.needs && !found.includes(test.needs)) continue;
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
