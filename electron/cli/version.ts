import fs from 'node:fs';
import path from 'node:path';

/** The app version from package.json (two levels up from dist/electron/cli or electron/cli). */
export function appVersion(): string {
  for (const p of [path.resolve(__dirname, '../../../package.json'), path.resolve(__dirname, '../../package.json')]) {
    if (fs.existsSync(p)) return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}
