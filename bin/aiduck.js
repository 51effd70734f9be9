#!/usr/bin/env node
// DuckDB waits on libuv's thread pool while it runs a query; give concurrent sessions room.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('../dist/src/cli.js');
