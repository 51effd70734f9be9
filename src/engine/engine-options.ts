/** How the engine worker opens its database. */
export interface EngineOptions {
  /** Path of the DuckDB database file, or ':memory:'. */
  databasePath: string;
  /** The data directory: model artifacts, the Hub download cache and (file storage) the result cache live here. */
  dataDir: string;
  /** Directory for temporary files (spilling, COPY FROM STDIN staging). */
  tmpDir: string;
  /** Directories SQL may read and write files in. */
  allowedDirs: string[];
  maxConnections: number;
  /** The configured user name, reported by pg_get_userbyid and pg_roles. */
  user: string;
  /** DuckDB worker threads; undefined means one per core. */
  threads?: number;
  memoryLimit?: string;
}
