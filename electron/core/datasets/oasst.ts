// OpenAssistant message trees -> conversations, one tree at a time. Two layouts hold the same
// trees: the nested export (a tree per line: {message_tree_id, prompt: {…, replies: […]}}, or the
// root message itself with its nested replies) and the flat oasst1 layout (one message per line,
// linked by parent_id). `best` follows the best-ranked reply at every branch (rank 0 is the best;
// unranked replies come last): one conversation per tree. `all` gives every root-to-leaf path. In
// both, trailing unanswered user turns are dropped (nothing follows them to train on), and a path
// that becomes the same as another one that way is kept once (as Open-Assistant's own SFT export does).
//
// Memory is bounded by one tree: a flat file is read as the oasst1 exports are written, grouped by
// message_tree_id (or, without that field, a tree running from its root to the next root). A message
// of a tree that was already finished (a file not grouped by tree) is quarantined with that reason.
import type { BrokenRecord, JsonRecord } from './json-records';
import { capRaw } from './line-reader';
import type { ChatMessage } from './sample';

export type OasstPaths = 'best' | 'all';

interface Node {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  rank: number | null;
  line: number;
  children: Node[];
}

interface FlatMessage {
  node: Node;
  parent: string | null;
  raw: () => string;
}

export interface OasstConversation {
  messages: ChatMessage[];
  /** The line of the tree's root message. */
  line: number;
}

export interface OasstOutput {
  conversations: OasstConversation[];
  quarantined: BrokenRecord[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a record of the nested layout (a whole tree), false for a flat message. */
const isNested = (v: Record<string, unknown>) => isObject(v.prompt) || Array.isArray(v.replies);

/** Feed records in file order; conversations come out as their trees complete. */
export class OasstTreeReader {
  /** Conversations the file gives along top-ranked paths and along all paths (so far). */
  readonly counts = { best: 0, all: 0 };
  private group: FlatMessage[] = [];
  private groupKey: string | null = null;
  private readonly finished = new Set<string>();

  constructor(private readonly paths: OasstPaths) {}

  add(rec: JsonRecord): OasstOutput {
    const out: OasstOutput = { conversations: [], quarantined: [] };
    const raw = () => capRaw(rec.text);
    try {
      const v = rec.value;
      if (!isObject(v)) throw new Error('expected a JSON object (an OASST tree or message)');
      if (isNested(v)) this.emit(nestedNode(isObject(v.prompt) ? v.prompt : v, rec.line), out);
      else {
        const parent = v.parent_id;
        if (parent !== null && parent !== undefined && typeof parent !== 'string') throw new Error('parent_id must be a string or null');
        const node = messageNode(v, rec.line);
        const key = typeof v.message_tree_id === 'string' ? v.message_tree_id : parent == null ? node.id : this.groupKey ?? node.id;
        if (key !== this.groupKey) {
          if (this.finished.has(key)) {
            throw new Error(`message ${node.id}: its tree ${key} was already read further up; a flat OASST file must keep each tree's messages together (sort it by message_tree_id)`);
          }
          this.flush(out);
          this.groupKey = key;
        }
        this.group.push({ node, parent: parent ?? null, raw });
      }
    } catch (err) {
      out.quarantined.push({ line: rec.line, raw: raw(), error: (err as Error).message });
    }
    return out;
  }

  /** The end of the file: the last flat tree is complete. */
  end(): OasstOutput {
    const out: OasstOutput = { conversations: [], quarantined: [] };
    this.flush(out);
    return out;
  }

  private flush(out: OasstOutput): void {
    if (this.groupKey !== null) this.finished.add(this.groupKey);
    const roots = linkFlat(this.group, out.quarantined);
    this.group = [];
    for (const root of roots) this.emit(root, out);
  }

  private emit(root: Node, out: OasstOutput): void {
    const all = distinctPaths(root);
    this.counts.best += 1;
    this.counts.all += all.length;
    const paths = this.paths === 'best' ? [bestPath(root)] : all;
    for (const p of paths) out.conversations.push({ messages: toMessages(p), line: root.line });
  }
}

/** One record of either layout holding a whole tree -> its best path (a fixed quarantine line). */
export function oasstTreeBestPath(value: unknown): ChatMessage[] {
  if (!isObject(value) || !isNested(value)) {
    throw new Error('expected an OASST tree ({"message_tree_id", "prompt": {…, "replies": […]}}): a single flat message is not a conversation');
  }
  return toMessages(bestPath(nestedNode(isObject(value.prompt) ? value.prompt : value, 1)));
}

function messageNode(v: Record<string, unknown>, line: number): Node {
  if (typeof v.message_id !== 'string') throw new Error('message_id must be a string');
  if (typeof v.text !== 'string') throw new Error(`message ${v.message_id}: text must be a string`);
  const role = v.role === 'prompter' ? 'user' : v.role === 'assistant' ? 'assistant' : undefined;
  if (!role) throw new Error(`message ${v.message_id}: role is ${JSON.stringify(v.role)}, expected "prompter" or "assistant"`);
  const rank = typeof v.rank === 'number' ? v.rank : null;
  return { id: v.message_id, role, text: v.text, rank, line, children: [] };
}

function nestedNode(v: Record<string, unknown>, line: number): Node {
  const node = messageNode(v, line);
  const replies = v.replies ?? [];
  if (!Array.isArray(replies)) throw new Error(`message ${node.id}: replies must be an array`);
  node.children = replies.map((r) => {
    if (!isObject(r)) throw new Error(`message ${node.id}: a reply is not an object`);
    return nestedNode(r, line);
  });
  return node;
}

/** One tree's flat messages -> its root(s), children in file order; a message no root reaches is quarantined. */
function linkFlat(flat: FlatMessage[], quarantined: BrokenRecord[]): Node[] {
  const byId = new Map(flat.map((f) => [f.node.id, f.node]));
  const roots: Node[] = [];
  for (const f of flat) {
    if (f.parent === null) roots.push(f.node);
    else byId.get(f.parent)?.children.push(f.node);
  }
  const reached = new Set<Node>();
  const visit = (n: Node) => {
    reached.add(n);
    n.children.forEach(visit);
  };
  roots.forEach(visit);
  for (const f of flat) {
    if (!reached.has(f.node)) {
      quarantined.push({ line: f.node.line, raw: f.raw(), error: `message ${f.node.id}: its parent ${f.parent} is not in the file (or not linked to a root)` });
    }
  }
  return roots;
}

const byRank = (a: Node, b: Node) => (a.rank ?? Infinity) - (b.rank ?? Infinity);

function bestPath(root: Node): Node[] {
  const path = [root];
  for (let n = root; n.children.length; ) {
    n = [...n.children].sort(byRank)[0]; // stable: equal ranks keep file order
    path.push(n);
  }
  return answered(path);
}

/** Every root-to-leaf path, each answered part kept once, in depth-first order. */
function distinctPaths(root: Node): Node[][] {
  const out: Node[][] = [];
  const seen = new Set<Node>(); // paths are told apart by their last node
  const walk = (n: Node, path: Node[]) => {
    const here = [...path, n];
    if (n.children.length) return n.children.forEach((c) => walk(c, here));
    const p = answered(here);
    if (!seen.has(p[p.length - 1])) out.push(p);
    seen.add(p[p.length - 1]);
  };
  walk(root, []);
  return out;
}

/** The path without its trailing user turns (a lone prompt stays: the sample is flagged, not lost). */
function answered(path: Node[]): Node[] {
  let end = path.length;
  while (end > 1 && path[end - 1].role === 'user') end--;
  return path.slice(0, end);
}

const toMessages = (path: Node[]): ChatMessage[] => path.map((n) => ({ role: n.role, content: n.text }));
