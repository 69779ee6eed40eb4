import { InitialSchema1795888636659 } from './1795888636659-InitialSchema.js';

/** SQLite migrations, oldest first. Generate new ones with `npm run migration:generate:sqlite`. */
export const sqliteMigrations = [InitialSchema1795888636659];
