// Preference records from compare's blind A/B rating: the prompt, the chosen and the rejected
// reply, which side won and by how much (Llama 2's rating scale), for later reward modelling.
import type { Db } from './connection';
import { newId, nowIso } from './ids';

export interface PreferenceRecord {
  id: string;
  runId: string;
  prompt: string;
  systemPrompt: string;
  chosen: string;
  rejected: string;
  chosenSide: 'base' | 'tuned';
  strength: string;
  createdAt: string;
}

const COLUMNS = `id, run_id AS runId, prompt, system_prompt AS systemPrompt, chosen, rejected, chosen_side AS chosenSide, strength, created_at AS createdAt`;

export class PreferencesRepo {
  constructor(private readonly db: Db) {}

  insert(p: Omit<PreferenceRecord, 'id' | 'createdAt'>): PreferenceRecord {
    const id = newId();
    this.db
      .prepare(
        `INSERT INTO preference_records (id, run_id, prompt, system_prompt, chosen, rejected, chosen_side, strength, created_at)
         VALUES (@id, @runId, @prompt, @systemPrompt, @chosen, @rejected, @chosenSide, @strength, @createdAt)`,
      )
      .run({ ...p, id, createdAt: nowIso() });
    return this.db.prepare(`SELECT ${COLUMNS} FROM preference_records WHERE id = ?`).get(id) as PreferenceRecord;
  }

  list(runId?: string): PreferenceRecord[] {
    return runId
      ? (this.db.prepare(`SELECT ${COLUMNS} FROM preference_records WHERE run_id = ? ORDER BY created_at, rowid`).all(runId) as PreferenceRecord[])
      : (this.db.prepare(`SELECT ${COLUMNS} FROM preference_records ORDER BY created_at, rowid`).all() as PreferenceRecord[]);
  }
}
