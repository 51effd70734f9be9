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
  /** Environment variables an operator allowed as endpoint API keys besides AIDUCK_KEY_*. */
  allowedKeyEnvs: string[];
  maxConnections: number;
  /** The configured user name, reported by pg_get_userbyid and pg_roles. */
  user: string;
  /** DuckDB worker threads; undefined means one per core. */
  threads?: number;
  memoryLimit?: string;
  /** The engine thread's JavaScript heap limit in MB (AIDUCK_ENGINE_HEAP_MB); V8's default when unset. */
  heapLimitMb?: number;
}
