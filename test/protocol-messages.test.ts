import { describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import { Frontend } from '../src/protocol/codes.js';
import { MessageFramer } from '../src/protocol/framer.js';
import { decodeClientMessage, decodeStartupPacket } from '../src/protocol/frontend.js';
import { ProtocolError } from '../src/errors/sql-error.js';

/** The messages node-postgres' own serializer writes, framed and decoded by aiduck. */
function decodeAll(bytes: Buffer): ReturnType<typeof decodeClientMessage>[] {
  const f = new MessageFramer(1 << 20);
  f.expectStartup = false;
  f.push(bytes);
  const out = [];
  for (let m = f.next(); m; m = f.next()) out.push(decodeClientMessage(m));
  return out;
}

describe('frontend messages', () => {
  it('decodes what a driver sends into typed messages', () => {
    const bytes = Buffer.concat([
      serialize.query('SELECT 1'),
      serialize.parse({ name: 's1', text: 'SELECT $1::int', types: [23] }),
      serialize.bind({ portal: 'p1', statement: 's1', values: ['42', null], binary: false }),
      serialize.describe({ type: 'P', name: 'p1' }),
      serialize.execute({ portal: 'p1', rows: 10 }),
      serialize.close({ type: 'S', name: 's1' }),
      serialize.flush(),
      serialize.sync(),
      serialize.copyData(Buffer.from('1\tx\n')),
      serialize.copyDone(),
      serialize.copyFail('stop'),
      serialize.end(),
    ]);
    expect(decodeAll(bytes)).toEqual([
      { type: 'query', sql: 'SELECT 1' },
      { type: 'parse', name: 's1', sql: 'SELECT $1::int', paramOids: [23] },
      { type: 'bind', portal: 'p1', statement: 's1', paramFormats: [0, 0], params: [Buffer.from('42'), null], resultFormats: [0] },
      { type: 'describe', target: 'portal', name: 'p1' },
      { type: 'execute', portal: 'p1', maxRows: 10 },
      { type: 'close', target: 'statement', name: 's1' },
      { type: 'flush' },
      { type: 'sync' },
      { type: 'copy-data', data: Buffer.from('1\tx\n') },
      { type: 'copy-done' },
      { type: 'copy-fail', message: 'stop' },
      { type: 'terminate' },
    ]);
  });

  it('refuses unknown types, bad targets and short messages as protocol errors', () => {
    expect(() => decodeClientMessage({ code: 0x21, body: Buffer.alloc(0) })).toThrow(ProtocolError);
    expect(() => decodeClientMessage({ code: Frontend.Describe, body: Buffer.from('Xname\0') })).toThrow(/invalid Describe target/);
    expect(() => decodeClientMessage({ code: Frontend.Execute, body: Buffer.from('p\0\0') })).toThrow(/shorter than its contents/);
  });

  it('decodes startup, SSL and cancel requests', () => {
    const startup = serialize.startup({ user: 'u', database: 'd', application_name: 'a' });
    const packet = decodeStartupPacket(startup.subarray(4));
    expect(packet).toMatchObject({ type: 'startup', major: 3, minor: 0 });
    const parameters = (packet as { parameters: Map<string, string> }).parameters;
    expect([parameters.get('user'), parameters.get('database'), parameters.get('application_name')]).toEqual(['u', 'd', 'a']);
    expect(decodeStartupPacket(serialize.requestSsl().subarray(4))).toEqual({ type: 'ssl-request' });
    expect(decodeStartupPacket(serialize.cancel(1234, 5678).subarray(4))).toEqual({ type: 'cancel-request', pid: 1234, secret: 5678 });
  });
});
