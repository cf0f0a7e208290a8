// Starts the real browser-mode server (built CLI, real engine process, real SQLite file) for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './testdata';

export interface RunningServer {
  url: string;
  base: string;
  token: string;
  proc: ChildProcess;
  home: string;
  stderr: () => string;
  call<T = unknown>(name: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** The built CLI; PADDOCK_CLI_ENTRY points at another build (a helper's own .build/NAME/dist). */
export const cliEntry = process.env.PADDOCK_CLI_ENTRY ?? path.join(repoRoot, 'dist/electron/cli/main.js');

export function tempHome(prefix = 'paddock-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startServer(opts: { home?: string; env?: NodeJS.ProcessEnv; token?: string } = {}): Promise<RunningServer> {
  const home = opts.home ?? tempHome();
  const proc = spawn(process.execPath, [cliEntry, 'serve', ...(opts.token ? ['--token', opts.token] : [])], {
    env: { ...process.env, PADDOCK_HOME: home, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${err}`)), 30_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('http://'));
      if (line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${err}`)));
  });
  const u = new URL(url);
  const token = u.searchParams.get('token')!;
  const base = `${u.protocol}//${u.host}`;
  return {
    url,
    base,
    token,
    proc,
    home,
    stderr: () => err,
    async call<T>(name: string, body: unknown = {}) {
      const res = await fetch(`${base}/api/call/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { ok: boolean; result?: T; error?: { code: string; message: string } };
      if (!json.ok) throw Object.assign(new Error(json.error!.message), { code: json.error!.code });
      return json.result as T;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && !proc.signalCode) proc.kill('SIGKILL');
    },
  };
}

/** The engine process forked by a server (found through /proc: Linux only). */
export function enginePidOf(serverPid: number): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== serverPid) continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('engine/main')) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && (v as unknown) !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
