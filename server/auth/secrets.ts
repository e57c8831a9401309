/**
 * The server's two secrets, each in a file of its own (config auth.secret_file, auth.admin_key_file).
 * A missing file is created with 32 random bytes (hex), mode 0600, so a fresh install is secure by
 * default without a set-up step; an existing file is used as it is (at least 32 characters).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../config/load.js';

export interface SecretFile {
  value: string;
  /** true when this call created the file */
  created: boolean;
}

export function loadOrCreateSecret(path: string, what: string): SecretFile {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`${what} file ${path}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  if (text !== undefined) {
    if (text.length < 32) throw new ConfigError(`${what} file ${path}: holds ${text.length} characters, at least 32 are needed`);
    if ((statSync(path).mode & 0o077) !== 0) console.warn(`warning: ${what} file ${path} is readable by other users (chmod 600 it)`);
    return { value: text, created: false };
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('hex');
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}
