import { ProtocolError } from '../errors/sql-error.js';
import { Frontend, messageName, Request } from './codes.js';
import type { FrontendMessage } from './framer.js';
import { MessageReader } from './reader.js';

/** A frontend message after authentication, decoded. */
export type ClientMessage =
  | { type: 'query'; sql: string }
  | { type: 'parse'; name: string; sql: string; paramOids: number[] }
  | { type: 'bind'; portal: string; statement: string; paramFormats: number[]; params: Array<Buffer | null>; resultFormats: number[] }
  | { type: 'describe'; target: 'statement' | 'portal'; name: string }
  | { type: 'execute'; portal: string; maxRows: number }
  | { type: 'close'; target: 'statement' | 'portal'; name: string }
  | { type: 'sync' }
  | { type: 'flush' }
  | { type: 'terminate' }
  | { type: 'function-call' }
  | { type: 'copy-data'; data: Buffer }
  | { type: 'copy-done' }
  | { type: 'copy-fail'; message: string };

function target(r: MessageReader, what: string): 'statement' | 'portal' {
  const t = String.fromCharCode(r.byte());
  if (t === 'S') return 'statement';
  if (t === 'P') return 'portal';
  throw new ProtocolError(`invalid ${what} target "${t}"`);
}

function int16s(r: MessageReader): number[] {
  const n = r.int16();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int16());
  return out;
}

/** Decodes one message a session receives; a type it does not know is a protocol error. */
export function decodeClientMessage(m: FrontendMessage): ClientMessage {
  const r = new MessageReader(m.body);
  switch (m.code) {
    case Frontend.Query: return { type: 'query', sql: r.cstring() };
    case Frontend.Parse: {
      const name = r.cstring();
      const sql = r.cstring();
      const n = r.int16();
      const paramOids: number[] = [];
      for (let i = 0; i < n; i++) paramOids.push(r.int32());
      return { type: 'parse', name, sql, paramOids };
    }
    case Frontend.Bind: {
      const portal = r.cstring();
      const statement = r.cstring();
      const paramFormats = int16s(r);
      const count = r.int16();
      const params: Array<Buffer | null> = [];
      for (let i = 0; i < count; i++) {
        const len = r.int32();
        params.push(len < 0 ? null : Buffer.from(r.bytes(len)));
      }
      return { type: 'bind', portal, statement, paramFormats, params, resultFormats: int16s(r) };
    }
    case Frontend.Describe: return { type: 'describe', target: target(r, 'Describe'), name: r.cstring() };
    case Frontend.Execute: return { type: 'execute', portal: r.cstring(), maxRows: r.int32() };
    case Frontend.Close: return { type: 'close', target: target(r, 'Close'), name: r.cstring() };
    case Frontend.Sync: return { type: 'sync' };
    case Frontend.Flush: return { type: 'flush' };
    case Frontend.Terminate: return { type: 'terminate' };
    case Frontend.FunctionCall: return { type: 'function-call' };
    case Frontend.CopyData: return { type: 'copy-data', data: m.body };
    case Frontend.CopyDone: return { type: 'copy-done' };
    case Frontend.CopyFail: return { type: 'copy-fail', message: r.cstring() };
    default: throw new ProtocolError(`unexpected message type ${messageName(m.code)}`);
  }
}

/** A connection's first packet (it has no type byte). */
export type StartupPacket =
  | { type: 'ssl-request' }
  | { type: 'gssenc-request' }
  | { type: 'cancel-request'; pid: number; secret: number }
  | { type: 'startup'; major: number; minor: number; parameters: Map<string, string> };

export function decodeStartupPacket(body: Buffer): StartupPacket {
  const r = new MessageReader(body);
  const code = r.int32();
  if (code === Request.SSL) return { type: 'ssl-request' };
  if (code === Request.GSSENC) return { type: 'gssenc-request' };
  if (code === Request.Cancel) return { type: 'cancel-request', pid: r.int32(), secret: r.int32() };
  const major = code >> 16;
  const parameters = new Map<string, string>();
  // Only version 3 packets carry name/value pairs; the caller refuses the others by their version.
  while (major === 3) {
    const key = r.cstring();
    if (!key) break;
    parameters.set(key, r.cstring());
  }
  return { type: 'startup', major, minor: code & 0xffff, parameters };
}

/** The SASL messages of SCRAM authentication (both travel as PasswordMessage 'p'). */
export function decodeSaslInitialResponse(m: FrontendMessage): { mechanism: string; data: string } {
  expectPassword(m);
  const r = new MessageReader(m.body);
  const mechanism = r.cstring();
  const len = r.int32();
  return { mechanism, data: len < 0 ? '' : r.bytes(len).toString('utf8') };
}

export function decodeSaslResponse(m: FrontendMessage): string {
  expectPassword(m);
  return new MessageReader(m.body).rest().toString('utf8');
}

function expectPassword(m: FrontendMessage): void {
  if (m.code !== Frontend.Password) throw new ProtocolError(`expected a password message, got ${messageName(m.code)}`);
}
