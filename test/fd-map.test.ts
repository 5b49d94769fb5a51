// FdMap, the selector's fd -> key table: Map semantics over an array indexed
// by fd, with fds beyond the array's limit kept apart.
import { describe, expect, it } from 'vitest';
import { FdMap } from '../lib/fd-map.js';

const v = (name: string) => ({ name });

describe('FdMap', () => {
  it('sets, gets, replaces and deletes like a Map', () => {
    const m = new FdMap<{ name: string }>();
    expect(m.size).toBe(0);
    expect(m.get(3)).toBeUndefined();
    expect(m.has(3)).toBe(false);
    const a = v('a');
    m.set(3, a);
    expect(m.get(3)).toBe(a);
    expect(m.has(3)).toBe(true);
    expect(m.size).toBe(1);
    const b = v('b');
    m.set(3, b); // replacing keeps the size
    expect(m.get(3)).toBe(b);
    expect(m.size).toBe(1);
    expect(m.delete(3)).toBe(true);
    expect(m.delete(3)).toBe(false);
    expect(m.delete(1000)).toBe(false); // beyond the array so far
    expect(m.has(3)).toBe(false);
    expect(m.size).toBe(0);
  });

  it('keeps fds registered and unregistered over and over among many others', () => {
    const m = new FdMap<{ name: string }>();
    for (let fd = 0; fd < 10_000; fd++) m.set(fd, v(`idle ${fd}`));
    for (let i = 0; i < 1_000; i++) {
      m.set(10_000, v(`churn ${i}`));
      expect(m.get(10_000)?.name).toBe(`churn ${i}`);
      expect(m.delete(10_000)).toBe(true);
      expect(m.has(10_000)).toBe(false);
    }
    expect(m.size).toBe(10_000);
    expect(m.get(9_999)?.name).toBe('idle 9999');
  });

  it('iterates in fd order over a snapshot, unaffected by changes made meanwhile', () => {
    const m = new FdMap<{ name: string }>();
    for (const fd of [7, 2, 5]) m.set(fd, v(String(fd)));
    const seen: number[] = [];
    for (const [fd] of m.entries()) {
      seen.push(fd);
      m.delete(5);
      m.set(9, v('9'));
    }
    expect(seen).toEqual([2, 5, 7]);
    expect([...m.keys()]).toEqual([2, 7, 9]);
    expect([...m.values()].map((x) => x.name)).toEqual(['2', '7', '9']);
  });

  it('keeps fds too large for the array in a side table, in the same order and counts', () => {
    const m = new FdMap<{ name: string }>();
    const huge = 2 ** 30; // only reachable with a raised RLIMIT_NOFILE and dup2
    m.set(huge + 1, v('h1'));
    m.set(huge, v('h0'));
    m.set(4, v('4'));
    expect(m.size).toBe(3);
    expect(m.get(huge)?.name).toBe('h0');
    expect([...m.keys()]).toEqual([4, huge, huge + 1]);
    expect(m.delete(huge)).toBe(true);
    expect(m.has(huge)).toBe(false);
    expect(m.size).toBe(2);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.has(huge + 1)).toBe(false);
    expect([...m.entries()]).toEqual([]);
  });
});
