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
//       epoll, io_uring), so that a Linux build compiles what macOS compiles
//       and the fallbacks run in CI.
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
  // -- native/sys_tty.cc
  // -- native/sys_linux.cc
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
