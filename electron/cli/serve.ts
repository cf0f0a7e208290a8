// `paddock serve`: browser mode. Prints the URL (with its per-launch token) on stdout.
import { parseArgs } from 'node:util';
import { PaddockCore } from '../core/app';
import { ProcessEngine } from '../core/engine/process-engine';
import { bundledDatasetsDir, bundledModelFile, defaultDataDir, rendererDir } from '../core/paths';
import { startWebHost } from '../web/web-host';
import { UsageError, numberArg } from './fail';
import { appVersion } from './version';

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      token: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const host = values.host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && !values['allow-remote']) {
    throw new UsageError(`binding to ${host} exposes Paddock to the network: add --allow-remote to confirm (the token is still required)`);
  }
  const core = await new PaddockCore({
    dataDir: values['data-dir'] ?? defaultDataDir(),
    engine: new ProcessEngine(),
    mode: 'browser',
    version: appVersion(),
    bundledModel: bundledModelFile(),
    bundledDatasets: bundledDatasetsDir(),
  }).start();
  const web = await startWebHost({
    core,
    rendererDir: rendererDir(),
    host,
    port: numberArg('port', values.port ?? process.env.PADDOCK_PORT, 0, true),
    token: values.token ?? process.env.PADDOCK_TOKEN,
  });
  process.stdout.write(`${web.url}\n`);
  process.stderr.write(`[paddock] browser mode on ${web.url} (data: ${values['data-dir'] ?? defaultDataDir()})\n`);
  const shutdown = async () => {
    await web.close();
    await core.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
