/**
 * Rewrites Postgres-specific SQL that clients send (catalog queries of psql, pgJDBC, psycopg) into
 * SQL DuckDB accepts. Statements that need no change come back unchanged.
 */
export function rewriteForDuckDB(sql: string): string {
  return sql;
}
