import type { ErrorFields, SqlError } from '../errors/sql-error.js';
import { Auth, Backend, ErrorField } from './codes.js';
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
  /** The table and column the values come from (0 when they are computed). */
  tableOid?: number;
  columnNumber?: number;
  typeOid: number;
  typeSize: number;
  typeModifier: number;
  format: 0 | 1;
}

export type TransactionStatus = 'I' | 'T' | 'E';

export function authenticationOk(w: MessageWriter): void {
  w.begin(Backend.Authentication).int32(Auth.Ok).end();
}

export function authenticationSasl(w: MessageWriter, mechanisms: string[]): void {
  w.begin(Backend.Authentication).int32(Auth.Sasl);
  for (const m of mechanisms) w.cstring(m);
  w.int8(0).end();
}

export function authenticationSaslContinue(w: MessageWriter, data: string): void {
  w.begin(Backend.Authentication).int32(Auth.SaslContinue).bytes(Buffer.from(data)).end();
}

export function authenticationSaslFinal(w: MessageWriter, data: string): void {
  w.begin(Backend.Authentication).int32(Auth.SaslFinal).bytes(Buffer.from(data)).end();
}

export function authenticationCleartextPassword(w: MessageWriter): void {
  w.begin(Backend.Authentication).int32(Auth.CleartextPassword).end();
}

export function parameterStatus(w: MessageWriter, name: string, value: string): void {
  w.begin(Backend.ParameterStatus).cstring(name).cstring(value).end();
}

export function backendKeyData(w: MessageWriter, pid: number, secret: number): void {
  w.begin(Backend.BackendKeyData).int32(pid).int32(secret).end();
}

export function readyForQuery(w: MessageWriter, status: TransactionStatus): void {
  w.begin(Backend.ReadyForQuery).int8(status.charCodeAt(0)).end();
}

function noticeFields(w: MessageWriter, n: PgNotice): void {
  w.int8(ErrorField.Severity).cstring(n.severity);
  w.int8(ErrorField.SeverityNonLocalized).cstring(n.severity);
  w.int8(ErrorField.Code).cstring(n.code);
  w.int8(ErrorField.Message).cstring(n.message);
  if (n.detail) w.int8(ErrorField.Detail).cstring(n.detail);
  if (n.hint) w.int8(ErrorField.Hint).cstring(n.hint);
  if (n.position) w.int8(ErrorField.Position).cstring(String(n.position));
  if (n.schema) w.int8(ErrorField.Schema).cstring(n.schema);
  if (n.table) w.int8(ErrorField.Table).cstring(n.table);
  if (n.column) w.int8(ErrorField.Column).cstring(n.column);
  if (n.dataType) w.int8(ErrorField.DataType).cstring(n.dataType);
  if (n.constraint) w.int8(ErrorField.Constraint).cstring(n.constraint);
  w.int8(0);
}

export function errorResponse(w: MessageWriter, n: PgNotice): void {
  w.begin(Backend.ErrorResponse);
  noticeFields(w, n);
  w.end();
}

export function noticeResponse(w: MessageWriter, n: PgNotice): void {
  w.begin(Backend.NoticeResponse);
  noticeFields(w, n);
  w.end();
}

export function rowDescription(w: MessageWriter, fields: readonly FieldDescription[]): void {
  w.begin(Backend.RowDescription).int16(fields.length);
  for (const f of fields) {
    w.cstring(f.name).int32(f.tableOid ?? 0).int16(f.columnNumber ?? 0).int32(f.typeOid).int16(f.typeSize).int32(f.typeModifier).int16(f.format);
  }
  w.end();
}

export function parameterDescription(w: MessageWriter, oids: readonly number[]): void {
  w.begin(Backend.ParameterDescription).int16(oids.length);
  for (const o of oids) w.int32(o);
  w.end();
}

export function noData(w: MessageWriter): void {
  w.begin(Backend.NoData).end();
}

export function parseComplete(w: MessageWriter): void {
  w.begin(Backend.ParseComplete).end();
}

export function bindComplete(w: MessageWriter): void {
  w.begin(Backend.BindComplete).end();
}

export function closeComplete(w: MessageWriter): void {
  w.begin(Backend.CloseComplete).end();
}

export function portalSuspended(w: MessageWriter): void {
  w.begin(Backend.PortalSuspended).end();
}

export function emptyQueryResponse(w: MessageWriter): void {
  w.begin(Backend.EmptyQueryResponse).end();
}

export function commandComplete(w: MessageWriter, tag: string): void {
  w.begin(Backend.CommandComplete).cstring(tag).end();
}

export function copyOutResponse(w: MessageWriter, format: 0 | 1, columns: number): void {
  w.begin(Backend.CopyOutResponse).int8(format).int16(columns);
  for (let i = 0; i < columns; i++) w.int16(format);
  w.end();
}

export function copyInResponse(w: MessageWriter, format: 0 | 1, columns: number): void {
  w.begin(Backend.CopyInResponse).int8(format).int16(columns);
  for (let i = 0; i < columns; i++) w.int16(format);
  w.end();
}

export function copyData(w: MessageWriter, data: string): void {
  w.begin(Backend.CopyData);
  w.utf8(data);
  w.end();
}

export function negotiateProtocolVersion(w: MessageWriter, newestMinor: number, unknownOptions: readonly string[]): void {
  w.begin(Backend.NegotiateProtocolVersion).int32(newestMinor).int32(unknownOptions.length);
  for (const o of unknownOptions) w.cstring(o);
  w.end();
}

/** A DataRow of text values (null for NULL). */
export function textRow(w: MessageWriter, values: ReadonlyArray<string | null>): void {
  w.begin(Backend.DataRow).int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else w.lengthPrefixedString(v);
  }
  w.end();
}

/** NotificationResponse: a NOTIFY on a channel this session listens to. */
export function notificationResponse(w: MessageWriter, pid: number, channel: string, payload: string): void {
  w.begin(Backend.NotificationResponse).int32(pid).cstring(channel).cstring(payload).end();
}

export function copyDone(w: MessageWriter): void {
  w.begin(Backend.CopyDone).end();
}
