// `paddock dataset import F [--format ...] [--oasst best|all]` (DESIGN.md's CLI table).
import { UsageError } from './fail';

export async function datasetCommand(argv: string[]): Promise<void> {
  throw new UsageError(`dataset ${argv.join(' ')}: not implemented yet`);
}
