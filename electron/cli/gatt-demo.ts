// `paddock gatt-demo`: the Ghost Attention demonstration of issue 6, reproducible by one command.
import { UsageError } from './fail';

export async function gattDemoCommand(argv: string[]): Promise<void> {
  throw new UsageError(`gatt-demo ${argv.join(' ')}: not implemented yet`);
}
