import type { ErrorFields, SqlError } from '../errors/sql-error.js';
import { MessageWriter } from './writer.js';

/** The fields of an ErrorResponse or NoticeResponse. */
export interface PgNotice extends ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'WARNING' | 'NOTICE' | 'INFO' | 'LOG';
  code: string;
  message: string;
  hint?: string;
}

/** An error as the ErrorResponse that reports it. */
export function noticeOf(err: SqlError, severity: PgNotice['severity'] = 'ERROR'): PgNotice {
  return { severity, code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...err.fields };
}

export interface FieldDescription {
  name: string;
  typeOid: number;
  typeSize: number;
  typeModifier: number;
  format: 0 | 1;
}

export type TransactionStatus = 'I' | 'T' | 'E';

export function authenticationOk(w: MessageWriter): void {
  w.begin('R').int32(0).end();
}

export function authenticationSasl(w: MessageWriter, mechanisms: string[]): void {
  w.begin('R').int32(10);
  for (const m of mechanisms) w.cstring(m);
  w.int8(0).end();
}

export function authenticationSaslContinue(w: MessageWriter, data: string): void {
  w.begin('R').int32(11).bytes(Buffer.from(data)).end();
}

export function authenticationSaslFinal(w: MessageWriter, data: string): void {
  w.begin('R').int32(12).bytes(Buffer.from(data)).end();
}

export function authenticationCleartextPassword(w: MessageWriter): void {
  w.begin('R').int32(3).end();
}

export function parameterStatus(w: MessageWriter, name: string, value: string): void {
  w.begin('S').cstring(name).cstring(value).end();
}

export function backendKeyData(w: MessageWriter, pid: number, secret: number): void {
  w.begin('K').int32(pid).int32(secret).end();
}

export function readyForQuery(w: MessageWriter, status: TransactionStatus): void {
  w.begin('Z').int8(status.charCodeAt(0)).end();
}

function noticeFields(w: MessageWriter, n: PgNotice): void {
  w.int8(0x53).cstring(n.severity); // S
  w.int8(0x56).cstring(n.severity); // V (non-localized)
  w.int8(0x43).cstring(n.code); // C
  w.int8(0x4d).cstring(n.message); // M
  if (n.detail) w.int8(0x44).cstring(n.detail);
  if (n.hint) w.int8(0x48).cstring(n.hint);
  if (n.position) w.int8(0x50).cstring(String(n.position));
  if (n.schema) w.int8(0x73).cstring(n.schema); // s
  if (n.table) w.int8(0x74).cstring(n.table); // t
  if (n.column) w.int8(0x63).cstring(n.column); // c
  if (n.dataType) w.int8(0x64).cstring(n.dataType); // d
  if (n.constraint) w.int8(0x6e).cstring(n.constraint); // n
  w.int8(0);
}

export function errorResponse(w: MessageWriter, n: PgNotice): void {
  w.begin('E');
  noticeFields(w, n);
  w.end();
}

export function noticeResponse(w: MessageWriter, n: PgNotice): void {
  w.begin('N');
  noticeFields(w, n);
  w.end();
}

export function rowDescription(w: MessageWriter, fields: readonly FieldDescription[]): void {
  w.begin('T').int16(fields.length);
  for (const f of fields) {
    w.cstring(f.name).int32(0).int16(0).int32(f.typeOid).int16(f.typeSize).int32(f.typeModifier).int16(f.format);
  }
  w.end();
}

export function parameterDescription(w: MessageWriter, oids: readonly number[]): void {
  w.begin('t').int16(oids.length);
  for (const o of oids) w.int32(o);
  w.end();
}

export function noData(w: MessageWriter): void {
  w.begin('n').end();
}

export function parseComplete(w: MessageWriter): void {
  w.begin('1').end();
}

export function bindComplete(w: MessageWriter): void {
  w.begin('2').end();
}

export function closeComplete(w: MessageWriter): void {
  w.begin('3').end();
}

export function portalSuspended(w: MessageWriter): void {
  w.begin('s').end();
}

export function emptyQueryResponse(w: MessageWriter): void {
  w.begin('I').end();
}

export function commandComplete(w: MessageWriter, tag: string): void {
  w.begin('C').cstring(tag).end();
}

export function copyOutResponse(w: MessageWriter, format: 0 | 1, columns: number): void {
  w.begin('H').int8(format).int16(columns);
  for (let i = 0; i < columns; i++) w.int16(format);
  w.end();
}

export function copyInResponse(w: MessageWriter, format: 0 | 1, columns: number): void {
  w.begin('G').int8(format).int16(columns);
  for (let i = 0; i < columns; i++) w.int16(format);
  w.end();
}

export function copyData(w: MessageWriter, data: string): void {
  w.begin('d');
  w.utf8(data);
  w.end();
}

export function copyDone(w: MessageWriter): void {
  w.begin('c').end();
}
