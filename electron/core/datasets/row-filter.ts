// The editor's row filter as SQL over dataset_rows (alias r): text, turns, tokens, tag, split and
// validation problem. Everything but the text search reads only the covering index's columns.
import type { RowFilter } from '../../shared/contract-datasets';

export interface FilterSql {
  /** Conditions joined with AND, to follow "WHERE r.dataset_id = ? AND r.deleted = 0". */
  where: string;
  params: (string | number)[];
  /** True when no condition applies (plain paging can skip window functions). */
  empty: boolean;
}

/** LIKE pattern for a substring, with LIKE's own wildcards escaped (ESCAPE '\'). */
function likeSubstring(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function rowFilterSql(filter: RowFilter = {}): FilterSql {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.text && filter.text.trim()) {
    const needle = filter.text.toLowerCase();
    // A cheap pre-filter on the stored JSON (the needle escaped the way JSON.stringify writes it),
    // then the exact test on message contents only, so "user" doesn't match every row's roles.
    where.push(
      `r.messages_json LIKE ? ESCAPE '\\' AND EXISTS (SELECT 1 FROM json_each(r.messages_json) m WHERE instr(lower(json_extract(m.value, '$.content')), ?) > 0)`,
    );
    params.push(likeSubstring(JSON.stringify(needle).slice(1, -1)), needle);
  }
  if (filter.minTurns !== undefined) {
    where.push('r.turns >= ?');
    params.push(filter.minTurns);
  }
  if (filter.maxTurns !== undefined) {
    where.push('r.turns <= ?');
    params.push(filter.maxTurns);
  }
  if (filter.minTokens !== undefined) {
    where.push('r.tokens >= ?');
    params.push(filter.minTokens);
  }
  if (filter.maxTokens !== undefined) {
    where.push('r.tokens <= ?');
    params.push(filter.maxTokens);
  }
  if (filter.tag) {
    where.push('r.id IN (SELECT t.row_id FROM dataset_row_tags t WHERE t.dataset_id = r.dataset_id AND t.tag = ?)');
    params.push(filter.tag);
  }
  if (filter.split === 'none') where.push('r.split IS NULL');
  else if (filter.split) {
    where.push('r.split = ?');
    params.push(filter.split);
  }
  if (filter.problem === 'any') where.push("r.problems <> ''");
  else if (filter.problem) {
    where.push('instr(r.problems, ?) > 0');
    params.push(`,${filter.problem},`);
  }
  return { where: where.length ? where.join(' AND ') : '1', params, empty: where.length === 0 };
}
