/**
 * The sample data the README's quickstart reads: product reviews made up from a few templates, the
 * same bytes on every run. Written as CSV (read_csv) and Parquet (read_parquet, read in place).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const PRODUCTS = ['rubber duck', 'pond pump', 'garden hose', 'rain jacket', 'coffee grinder', 'desk lamp', 'hiking boots', 'bird feeder'];

/** Review texts by star rating; {} is the product. */
const TEMPLATES: Record<number, string[]> = {
  5: ['The {} works great and arrived a day early.', 'I love this {}: solid, quiet and easy to set up.', 'Best {} I have owned, I would buy it again.'],
  4: ['A good {} for the price, though the manual is thin.', 'The {} does what it should; delivery took a week.'],
  3: ['The {} is fine, nothing special.', 'It is an ordinary {}: some parts feel cheap, others are fine.'],
  2: ['The {} stopped working after a month and support was slow.', 'Disappointing {}, it is louder and smaller than the photos.'],
  1: ['The {} broke on the first day and the refund took weeks.', 'Terrible {}: it arrived damaged and nobody answered my emails.'],
};

export const REVIEW_COUNT = 200;

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The reviews as CSV text: id, product, stars, reviewed_on, body. */
export function reviewsCsv(): string {
  const lines = ['id,product,stars,reviewed_on,body'];
  const start = Date.UTC(2024, 0, 1);
  for (let id = 1; id <= REVIEW_COUNT; id++) {
    const product = PRODUCTS[id % PRODUCTS.length]!;
    // A fixed, uneven spread of ratings: more good reviews than bad ones, as in most shops.
    const stars = [5, 4, 5, 3, 1, 4, 2, 5, 4, 3, 5, 1][(id * 7) % 12]!;
    const templates = TEMPLATES[stars]!;
    const body = templates[(id * 5) % templates.length]!.replace('{}', product);
    const day = new Date(start + (id * 37 % 366) * 86_400_000).toISOString().slice(0, 10);
    lines.push([String(id), product, String(stars), day, body].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Writes `<filesDir>/samples/reviews.csv` and `reviews.parquet`; returns their paths. */
export async function writeSampleData(filesDir: string): Promise<string[]> {
  const dir = join(filesDir, 'samples');
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'reviews.csv');
  const parquet = join(dir, 'reviews.parquet');
  writeFileSync(csv, reviewsCsv());
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const quote = (p: string): string => `'${p.replace(/'/g, "''")}'`;
    await conn.run(`COPY (SELECT * FROM read_csv(${quote(csv)}) ORDER BY id) TO ${quote(parquet)} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return [csv, parquet];
}
