import type { AuthConfig, PasswordHashSettings } from '../config/auth.config.js';
import { PasswordHasher } from './password-hasher.js';

const hasherWith = (passwordHash: PasswordHashSettings) => new PasswordHasher({ passwordHash } as AuthConfig);

describe('PasswordHasher', () => {
  const cheap = hasherWith({ memoryKib: 1024, timeCost: 1, parallelism: 1 });
  const other = hasherWith({ memoryKib: 2048, timeCost: 2, parallelism: 2 });

  it('hashes with the configured argon2id cost', async () => {
    expect(await cheap.hash('correct horse battery')).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await other.hash('correct horse battery')).toMatch(/^\$argon2id\$v=19\$m=2048,p=2,t=2\$/);
  });

  it('verifies hashes made with other settings (a hash carries its own)', async () => {
    const made = await other.hash('correct horse battery');
    await expect(cheap.verify(made, 'correct horse battery')).resolves.toBe(true);
    await expect(cheap.verify(made, 'wrong horse battery')).resolves.toBe(false);
  });

  it('answers false for no hash or a malformed one', async () => {
    await expect(cheap.verify(null, 'anything')).resolves.toBe(false);
    await expect(cheap.verify('not-a-hash', 'anything')).resolves.toBe(false);
  });
});
