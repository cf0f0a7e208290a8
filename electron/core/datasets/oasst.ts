// OpenAssistant message trees -> conversations. Two layouts hold the same trees: the nested export
// (a tree per line: {message_tree_id, prompt: {…, replies: […]}}, or the root message itself with
// its nested replies) and the flat oasst1 layout (one message per line, linked by parent_id).
// `best` follows the best-ranked reply at every branch (rank 0 is the best; unranked replies come
// last): one conversation per tree. `all` gives every root-to-leaf path. In both, trailing
// unanswered user turns are dropped (nothing follows them to train on), and a path that becomes
// the same as another one that way is kept once (as Open-Assistant's own SFT export does).
import type { JsonRecord } from './json-records';
import type { ChatMessage, QuarantinedLine } from './sample';

export type OasstPaths = 'best' | 'all';

interface Node {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  rank: number | null;
  line: number;
  children: Node[];
}

export interface OasstConversations {
  conversations: ChatMessage[][];
  quarantined: QuarantinedLine[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a record of the nested layout (a whole tree), false for a flat message. */
const isNested = (v: Record<string, unknown>) => isObject(v.prompt) || Array.isArray(v.replies);

export function oasstConversations(records: JsonRecord[], paths: OasstPaths): OasstConversations {
  const quarantined: QuarantinedLine[] = [];
  const roots: Node[] = [];
  const flat: { rec: JsonRecord; node: Node; parent: string | null }[] = [];
  for (const rec of records) {
    try {
      const v = rec.value;
      if (!isObject(v)) throw new Error('expected a JSON object (an OASST tree or message)');
      if (isNested(v)) roots.push(nestedNode(isObject(v.prompt) ? v.prompt : v, rec.line));
      else {
        const parent = v.parent_id;
        if (parent !== null && parent !== undefined && typeof parent !== 'string') throw new Error('parent_id must be a string or null');
        flat.push({ rec, node: messageNode(v, rec.line), parent: parent ?? null });
      }
    } catch (err) {
      quarantined.push({ line: rec.line, error: (err as Error).message });
    }
  }
  roots.push(...linkFlat(flat, quarantined));
  const conversations: ChatMessage[][] = [];
  for (const root of roots) {
    if (paths === 'best') conversations.push(toMessages(bestPath(root)));
    else conversations.push(...distinctPaths(root).map(toMessages));
  }
  return { conversations, quarantined };
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

/** Flat messages -> trees, children in file order; a message no root reaches is quarantined. */
function linkFlat(flat: { rec: JsonRecord; node: Node; parent: string | null }[], quarantined: QuarantinedLine[]): Node[] {
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
    if (!reached.has(f.node)) quarantined.push({ line: f.rec.line, error: `message ${f.node.id}: its parent ${f.parent} is not in the file (or not linked to a root)` });
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
