import { copyTargetAt, fileName } from '../pg/copy-target.js';
import { codeTokens, isWord } from '../sqltext/lexer.js';
import { sqlString } from '../sqltext/quote.js';

/**
 * `COPY ... TO (data_file('name'))` with the path written out as the literal data_file() gives
 * (`<data>/files/name`), so that the fence on COPY targets (pg/copy-target.ts), which takes only
 * literals, checks the very file DuckDB writes. The path comes from the server, not from the
 * session's data_file macro or aiduck_files_dir variable, which a session could redefine.
 */
export function writeOutDataFileTarget(sql: string, filesDir: string): string {
  if (!/data_file/i.test(sql)) return sql;
  const tokens = codeTokens(sql);
  const at = copyTargetAt(tokens);
  if (at === null) return sql;
  const [open, fn, callOpen, arg, callClose, close] = tokens.slice(at, at + 6);
  if (open?.text !== '(' || !isWord(fn, 'data_file') || callOpen?.text !== '(' || !arg || callClose?.text !== ')' || close?.text !== ')') return sql;
  const name = fileName(arg);
  if (name === null || arg.kind !== 'string') return sql;
  return sql.slice(0, open.start) + sqlString(`${filesDir}/${name}`) + sql.slice(close.end);
}
