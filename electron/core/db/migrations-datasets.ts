// The datasets workbench's tables (migration 2).
import type { Migration } from './migrations';

export const datasetMigrations: Migration[] = [];
