// Runs first at `npm install` (package.json "install"): the addon is
// POSIX-only (select, poll, epoll, kqueue, io_uring; fds, not handles), so an
// install on Windows stops here with one line instead of failing deep inside
// the compile. package.json's "os" field makes npm refuse it even earlier
// (EBADPLATFORM); this covers a checkout and `npm install --force`.
'use strict';
if (process.platform === 'win32') {
  console.error(
    'node-selectors: Windows is not supported (the addon is POSIX-only: select, poll, epoll, kqueue, io_uring); use Linux, macOS, FreeBSD or WSL',
  );
  process.exit(1);
}
