// Fine-tuning runs' tables (migration 3).
import type { Migration } from './migrations';

export const runMigrations: Migration[] = [];
