/**
 * A model folder's chat template, found where transformers looks for it. transformers 5 saves it only
 * as `chat_template.jinja` (and named extra templates as `additional_chat_templates/<name>.jinja`);
 * older versions kept it in tokenizer_config.json's `chat_template`. As in transformers, the template
 * files take priority over tokenizer_config.json. transformers.js reads only tokenizer_config.json, so
 * a tokenizer it loaded is given the files' template here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';

export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';
export const ADDITIONAL_CHAT_TEMPLATES_DIR = 'additional_chat_templates';

/** One template, or named templates (`default`, `tool_use`, ...) as transformers keeps several. */
export type ChatTemplate = string | Record<string, string>;

function templateFiles(folder: string): Record<string, string> {
  const templates: Record<string, string> = {};
  const main = join(folder, CHAT_TEMPLATE_FILE);
  if (existsSync(main)) templates.default = readFileSync(main, 'utf8');
  const extra = join(folder, ADDITIONAL_CHAT_TEMPLATES_DIR);
  if (existsSync(extra)) {
    for (const file of readdirSync(extra).sort()) {
      if (file.endsWith('.jinja')) templates[file.slice(0, -'.jinja'.length)] = readFileSync(join(extra, file), 'utf8');
    }
  }
  return templates;
}

function configTemplate(folder: string): ChatTemplate | null {
  const file = join(folder, 'tokenizer_config.json');
  if (!existsSync(file)) return null;
  let config: { chat_template?: unknown };
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as typeof config;
  } catch {
    throw new SqlError('22P02', `tokenizer_config.json in ${folder} is not valid JSON`);
  }
  const t = config.chat_template;
  if (typeof t === 'string' && t !== '') return t;
  if (Array.isArray(t)) {
    const named: Record<string, string> = {};
    for (const entry of t as Array<{ name?: unknown; template?: unknown }>) {
      if (typeof entry?.name === 'string' && typeof entry.template === 'string') named[entry.name] = entry.template;
    }
    return Object.keys(named).length > 0 ? named : null;
  }
  return null;
}

/** The folder's chat template, or null when it has none. */
export function readChatTemplate(folder: string): ChatTemplate | null {
  const files = templateFiles(folder);
  const names = Object.keys(files);
  if (names.length === 0) return configTemplate(folder);
  return names.length === 1 && names[0] === 'default' ? files.default! : files;
}

/** Gives a tokenizer loaded from `folder` the template of the folder's template files, when it has them. */
export function applyFolderChatTemplate(tokenizer: object, folder: string): void {
  const files = templateFiles(folder);
  const names = Object.keys(files);
  if (names.length === 0) return;
  (tokenizer as { chat_template: unknown }).chat_template = names.length === 1 && names[0] === 'default' ? files.default : files;
}

export const hasChatTemplate = (folder: string): boolean => readChatTemplate(folder) !== null;
