import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package.js';
import { splitStatements } from './statements.js';

/** The statements of one of the package's sql/ files. */
export const readSqlFile = (name: string): string[] => splitStatements(readFileSync(join(packageRoot(), 'sql', name), 'utf8'));
