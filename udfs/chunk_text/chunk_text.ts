import type { QueryCommand } from '../../src/functions/commands.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import { tokenChunksKernel } from './token-chunks.js';
import { SqlError } from '../../src/errors/sql-error.js';
import { dataSource } from '../../src/functions/data-source.js';
import { quoteIdent, sqlString } from '../../src/sqltext/quote.js';

/**
 * `chunk_text(data, id => 'col', text => 'col', size => 1000, overlap => 100)`: the documents of
 * `data` (a table name or a query) cut into chunks of `size` characters, each starting
 * `size - overlap` characters after the previous one, with the document id, the chunk's position
 * in it (0, 1, ...), its first character (1-based) and its text. NULL and empty texts give no chunk.
 * With `unit => 'tokens', model => 'm'` sizes count tokens of that model's tokenizer, and chunks
 * hold whole words (token-chunks.ts).
 */
const query: QueryCommand = {
  name: 'chunk_text',
  signature: "data, id := 'id', text := 'text', size := 1000, overlap := 100, unit := 'chars', model := NULL",
  argsStruct: `struct_pack(data := data::VARCHAR, id := id::VARCHAR, text := text::VARCHAR, size := size::INTEGER, overlap := overlap::INTEGER,
    unit := unit::VARCHAR, model := model::VARCHAR)`,
  toSql(args) {
    const { data, id, text, size, overlap, unit, model } = args as {
      data: string | null; id: string | null; text: string | null; size: number | null; overlap: number | null; unit: string | null; model: string | null;
    };
    if (!data || !id || !text) throw new SqlError('22004', "chunk_text needs data, id => 'column' and text => 'column'");
    if (size === null || !Number.isInteger(size) || size < 1) throw new SqlError('22023', 'chunk_text: size must be a positive number of characters');
    if (overlap === null || !Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
      throw new SqlError('22023', 'chunk_text: overlap must be at least 0 and smaller than size');
    }
    if (unit === 'tokens') {
      if (!model) throw new SqlError('22004', "chunk_text with unit => 'tokens' needs model => the model whose tokenizer counts");
      return `SELECT doc_id, c.position, c.start AS start_char, substr(__text, c.start, c.len) AS chunk
        FROM (SELECT chunk_text.${quoteIdent(id)} AS doc_id, chunk_text.${quoteIdent(text)} AS __text,
                     unnest(from_json(__ai_token_chunks(${sqlString(model)}, chunk_text.${quoteIdent(text)}, ${size}, ${overlap}),
                                      '[{"position":"INTEGER","start":"INTEGER","len":"INTEGER"}]')) AS c
              FROM ${dataSource(data, 'chunk_text')} AS chunk_text
              WHERE length(chunk_text.${quoteIdent(text)}) > 0)`;
    }
    if (unit !== 'chars') throw new SqlError('22023', `chunk_text: unit must be 'chars' or 'tokens', not '${unit}'`);
    const step = size - overlap;
    return `SELECT doc_id, CAST(start_char // ${step} AS INTEGER) AS position, CAST(start_char + 1 AS INTEGER) AS start_char,
             substr(__text, start_char + 1, ${size}) AS chunk
      FROM (SELECT chunk_text.${quoteIdent(id)} AS doc_id, chunk_text.${quoteIdent(text)} AS __text,
                   unnest(range(0, greatest(length(chunk_text.${quoteIdent(text)}) - ${overlap}, 1), ${step})) AS start_char
            FROM ${dataSource(data, 'chunk_text')} AS chunk_text
            WHERE length(chunk_text.${quoteIdent(text)}) > 0)`;
  },
};

export const chunkText: SqlFunction = {
  name: 'chunk_text',
  kind: 'query-command',
  description: 'documents cut into overlapping chunks of characters or of whole words by tokens: doc_id, position, start_char, chunk',
  example: "SELECT * FROM chunk_text('docs', id => 'id', text => 'body', size => 800, overlap => 100);",
  query,
  kernels: [tokenChunksKernel],
};
