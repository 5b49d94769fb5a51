// Shared fixtures: real fds, closed at the end of each test.
import { readdirSync } from 'node:fs';
import { afterEach } from 'vitest';
import { availableBackends, DefaultSelector, sys, type BaseSelector } from '../lib/index.js';
import { SELECTOR_CLASSES } from '../lib/backends.js';

/** Every available backend plus DefaultSelector: the shared suite runs on each. */
export const BACKENDS: Array<{ name: string; create: <T = unknown>() => BaseSelector<T> }> = [
  ...availableBackends().map((name) => ({ name, create: <T,>() => new SELECTOR_CLASSES[name]!<T>() })),
  { name: 'DefaultSelector', create: <T,>() => new DefaultSelector<T>() },
];

const opened: number[] = [];
const selectors: BaseSelector<any>[] = [];

/** Closes every fd and selector a test made, even when it failed. */
afterEach(() => {
  for (const s of selectors.splice(0)) s.close();
  for (const fd of opened.splice(0)) {
    try {
      sys.close(fd);
    } catch {
      /* closed by the test itself */
    }
  }
});

export function track<T extends BaseSelector<any>>(s: T): T {
  selectors.push(s);
  return s;
}

export function pipe(): [number, number] {
  const fds = sys.pipe();
  opened.push(...fds);
  return fds;
}

export function socketpair(): [number, number] {
  const fds = sys.socketpair();
  opened.push(...fds);
  return fds;
}

export function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

export const enc = (s: string) => new TextEncoder().encode(s);
