import { afterEach, describe, expect, it, vi } from 'vitest';
import { callNotes, QUIET_CALL_ROWS, START_NOTE_DELAY_MS } from '../src/runtime/call-notes.js';
import { StatementNotes } from '../src/functions/statement-notes.js';
import type { ProviderNote } from '../src/runtime/provider.js';

const start = (text = 'sending to POST http://x/v1/chat/completions'): ProviderNote => ({ kind: 'start', text });
const retry = (text: string): ProviderNote => ({ kind: 'retry', text });

describe('callNotes (one runtime call)', () => {
  afterEach(() => vi.useRealTimers());

  it('a call of many rows announces itself at once, once', () => {
    const sent: ProviderNote[] = [];
    const notes = callNotes(QUIET_CALL_ROWS + 1, (n) => sent.push(n));
    notes.listener(start());
    notes.listener(start());
    expect(sent).toEqual([start()]);
  });

  it('a small call announces itself only if still running after the delay', () => {
    vi.useFakeTimers();
    const quick: ProviderNote[] = [];
    const q = callNotes(1, (n) => quick.push(n));
    q.listener(start());
    vi.advanceTimersByTime(START_NOTE_DELAY_MS - 1);
    q.end();
    vi.advanceTimersByTime(START_NOTE_DELAY_MS);
    expect(quick).toEqual([]);

    const slow: ProviderNote[] = [];
    const s = callNotes(1, (n) => slow.push(n));
    s.listener(start());
    vi.advanceTimersByTime(START_NOTE_DELAY_MS);
    expect(slow).toEqual([start()]);
  });

  it('a retry brings the held start note out first, and retries pass at most once a second', () => {
    let now = 0;
    const sent: ProviderNote[] = [];
    const notes = callNotes(1, (n) => sent.push(n), () => now);
    notes.listener(start());
    notes.listener(retry('retrying after HTTP 500 (attempt 2 of 6 in 0.5 s)'));
    now = 999;
    notes.listener(retry('retrying after HTTP 500 (attempt 2 of 6 in 0.6 s)'));
    now = 1000;
    notes.listener(retry('retrying after HTTP 500 (attempt 3 of 6 in 1.1 s)'));
    notes.end();
    expect(sent.map((n) => n.text)).toEqual([start().text, 'retrying after HTTP 500 (attempt 2 of 6 in 0.5 s)', 'retrying after HTTP 500 (attempt 3 of 6 in 1.1 s)']);
  });
});

describe('StatementNotes (one statement, many calls)', () => {
  it('admits each start note of a model once, retries once a second, and forgets at the end of the statement', () => {
    let now = 0;
    const notes = new StatementNotes(() => now);
    expect(notes.admit('llm', start())).toBe(true);
    expect(notes.admit('llm', start())).toBe(false);
    expect(notes.admit('other', start())).toBe(true);
    expect(notes.admit('llm', retry('a'))).toBe(true);
    now = 500;
    expect(notes.admit('llm', retry('b'))).toBe(false);
    now = 1000;
    expect(notes.admit('llm', retry('c'))).toBe(true);
    notes.clear();
    expect(notes.admit('llm', start())).toBe(true);
  });
});
