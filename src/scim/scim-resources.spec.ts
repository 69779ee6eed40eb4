import { ScimError } from './scim-error.js';
import { applyPatch } from './scim-patch.js';
import { groupNameOf, project, readGroup, readUser } from './scim-resources.js';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patchOf = (...Operations: object[]) => ({ schemas: [PATCH], Operations });

describe('SCIM mapping', () => {
  it.each([
    ['engineering', 'engineering'],
    ['Ops-EU', 'ops-eu'],
    ['a', 'a'],
  ])('keeps a displayName that is a group name once lower-cased: %s → %s', (displayName, name) => {
    expect(groupNameOf(displayName)).toBe(name);
  });

  it('makes any other displayName a name by the stable rule, different displayNames staying different', () => {
    const sales = groupNameOf('Sales Team (EMEA)');
    expect(sales).toMatch(/^sales-team-emea-[0-9a-f]{8}$/);
    expect(groupNameOf('Sales Team (EMEA)')).toBe(sales);
    expect(groupNameOf('Sales  Team [EMEA]')).not.toBe(sales);
    expect(groupNameOf('Équipe Été')).toMatch(/^equipe-ete-[0-9a-f]{8}$/);
    expect(groupNameOf('日本語')).toMatch(/^group-[0-9a-f]{8}$/);
    expect(groupNameOf('-leading')).toMatch(/^leading-[0-9a-f]{8}$/);
    const long = groupNameOf(`${'x'.repeat(53)} ${'y'.repeat(40)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^x{53}-[0-9a-f]{8}$/);
    for (const name of [sales, long, groupNameOf('!!!'), groupNameOf('a'.repeat(200))]) {
      expect(name).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    }
  });

  it('reads a user: full name from formatted or the name parts, the primary e-mail, lenient booleans', () => {
    expect(
      readUser(
        {
          userName: 'ＡＢＣ@example.com',
          name: { givenName: 'Ada', middleName: 'B', familyName: 'Lovelace' },
          emails: [
            { value: 'home@example.com', type: 'home' },
            { value: 'work@example.com', type: 'work' },
          ],
          active: 'False',
        },
        true,
      ),
    ).toEqual({
      userName: 'ABC@example.com',
      displayName: 'Ada B Lovelace',
      fullName: 'Ada B Lovelace',
      emailAddress: 'work@example.com',
      externalId: null,
      active: false,
    });
    expect(
      readUser({ userName: 'x', emails: [{ value: 'a@b.c' }, { value: 'p@b.c', primary: 'True' }] }, true).emailAddress,
    ).toBe('p@b.c');
    expect(() => readUser({ userName: 'x', active: 'False' }, false)).toThrow(ScimError);
    expect(
      readGroup({ displayName: 'G', members: [{ value: 'A0000000-0000-4000-8000-000000000000' }] }).members,
    ).toEqual(['a0000000-0000-4000-8000-000000000000']);
    expect(() => readGroup({ displayName: 'G', members: [{ value: 'x' }] })).toThrow(ScimError);
    expect(() =>
      readGroup({ displayName: 'G', members: [{ value: 'a0000000-0000-4000-8000-000000000000', type: 'Group' }] }),
    ).toThrow(ScimError);
  });

  it('projects attributes and excludedAttributes, keeping id and schemas', () => {
    const resource = {
      schemas: ['s'],
      id: '1',
      userName: 'u',
      name: { formatted: 'F', x: 1 },
      emails: [{ value: 'e', type: 'work' }],
    };
    expect(project(resource, [{ attr: 'USERNAME' }, { attr: 'emails', sub: 'type' }], [])).toEqual({
      schemas: ['s'],
      id: '1',
      userName: 'u',
      emails: [{ type: 'work' }],
    });
    expect(project(resource, [], [{ attr: 'id' }, { attr: 'name', sub: 'x' }, { attr: 'emails' }])).toEqual({
      schemas: ['s'],
      id: '1',
      userName: 'u',
      name: { formatted: 'F' },
    });
  });
});

describe('SCIM PATCH', () => {
  const group = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    id: 'g',
    displayName: 'G',
    members: [{ value: 'a' }, { value: 'b' }],
  };
  const user = { userName: 'u', emails: [{ value: 'h@x.y', type: 'home' }], active: true };

  it('adds members without doubles, removes them by value filter or (lenient) by value list, replaces', () => {
    expect(
      applyPatch(group, patchOf({ op: 'add', path: 'members', value: [{ value: 'b' }, { value: 'c' }] }), false)
        .members,
    ).toEqual([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    expect(applyPatch(group, patchOf({ op: 'remove', path: 'members[value eq "a"]' }), false).members).toEqual([
      { value: 'b' },
    ]);
    expect(
      applyPatch(group, patchOf({ op: 'Remove', path: 'members', value: [{ value: 'b' }] }), true).members,
    ).toEqual([{ value: 'a' }]);
    expect(applyPatch(group, patchOf({ op: 'remove', path: 'members' }), false)).not.toHaveProperty('members');
    expect(
      applyPatch(group, patchOf({ op: 'replace', path: 'members', value: [{ value: 'z' }] }), false).members,
    ).toEqual([{ value: 'z' }]);
    expect(applyPatch(group, patchOf({ op: 'replace', value: { displayName: 'H' } }), false).displayName).toBe('H');
    expect(group.members).toHaveLength(2); // the input is not changed
  });

  it('sets values through value paths and sub-attributes, making the missing value a filter names', () => {
    const added = applyPatch(user, patchOf({ op: 'add', path: 'emails[type eq "work"].value', value: 'w@x.y' }), false);
    expect(added.emails).toEqual([
      { value: 'h@x.y', type: 'home' },
      { type: 'work', value: 'w@x.y' },
    ]);
    const replaced = applyPatch(
      added,
      patchOf({ op: 'replace', path: 'emails[type eq "home"].value', value: 'h2@x.y' }),
      false,
    );
    expect(replaced.emails).toEqual([
      { value: 'h2@x.y', type: 'home' },
      { type: 'work', value: 'w@x.y' },
    ]);
    expect(applyPatch(user, patchOf({ op: 'add', path: 'name.formatted', value: 'N' }), false).name).toEqual({
      formatted: 'N',
    });
    expect(applyPatch(user, patchOf({ op: 'replace', value: { 'name.givenName': 'G' } }), false).name).toEqual({
      givenName: 'G',
    });
    expect(applyPatch(user, patchOf({ op: 'remove', path: 'emails[type eq "home"]' }), false).emails).toEqual([]);
  });

  it.each([
    [{}, 'invalidSyntax'],
    [{ schemas: [PATCH], Operations: [] }, 'invalidSyntax'],
    [{ Operations: [{ op: 'add', path: 'x', value: 1 }] }, 'invalidSyntax'],
    [patchOf({ op: 'Add', path: 'x', value: 1 }), 'invalidSyntax'],
    [patchOf({ op: 'remove' }), 'noTarget'],
    [patchOf({ op: 'add', path: 'x' }), 'invalidValue'],
    [patchOf({ op: 'add', value: 'x' }), 'invalidValue'],
    [patchOf({ op: 'add', value: { 'a.b.c': 1 } }), 'invalidPath'],
    [patchOf({ op: 'add', path: 'emails.value', value: 'x' }), 'invalidPath'],
    [patchOf({ op: 'add', path: 'emails[type eq "other" or type eq "x"].value', value: 'x' }), 'noTarget'],
    [patchOf({ op: 'replace', path: 'emails[type eq', value: 'x' }), 'invalidPath'],
    [patchOf({ op: 'replace', path: 'emails[type eq "x"]]', value: 'x' }), 'invalidFilter'],
    [patchOf({ op: 'remove', path: 'members', value: [{ value: 'a' }] }), 'invalidValue'],
    [patchOf(...Array.from({ length: 1001 }, () => ({ op: 'remove', path: 'x' }))), 'invalidSyntax'],
  ])('refuses %j strictly with 400 %s', (body, scimType) => {
    let caught: unknown;
    try {
      applyPatch({ ...user, members: [{ value: 'a' }] }, body, false);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScimError);
    expect({ status: (caught as ScimError).getStatus(), scimType: (caught as ScimError).scimType }).toEqual({
      status: 400,
      scimType,
    });
  });
});
