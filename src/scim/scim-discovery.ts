/**
 * SCIM's discovery resources (RFC 7644 section 4): what this service provider supports, its resource types, and the
 * schemas of its attributes, as this service maps them (scim-resources.ts). Pure.
 */
import { ScimError } from './scim-error.js';
import { MAX_PAGE_SIZE } from './scim-list.js';
import { MAX_PATCH_OPERATIONS } from './scim-patch.js';
import { GROUP_SCHEMA, LIST_SCHEMA, type ScimResource, USER_SCHEMA } from './scim-resources.js';

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export function serviceProviderConfig(baseUrl: string): ScimResource {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Service-account token',
        description: `A service account's token (Authorization: Bearer) whose roles allow iam:ScimProvision; at most ${MAX_PATCH_OPERATIONS} operations per PATCH`,
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

const RESOURCE_TYPES = [
  { id: 'User', name: 'User', endpoint: '/Users', description: 'A user of the IAM', schema: USER_SCHEMA },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'A group of the IAM', schema: GROUP_SCHEMA },
];

export function resourceTypes(baseUrl: string): ScimResource[] {
  return RESOURCE_TYPES.map((type) => ({
    schemas: [RESOURCE_TYPE_SCHEMA],
    ...type,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.id}` },
  }));
}

interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'default' | 'never';
  uniqueness?: 'none' | 'server';
  description: string;
  subAttributes?: Attribute[];
  referenceTypes?: string[];
}

const attribute = (a: Attribute): Attribute => ({
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...a,
});

const SCHEMAS = [
  {
    id: USER_SCHEMA,
    name: 'User',
    description: 'An IAM user',
    attributes: [
      attribute({
        name: 'userName',
        type: 'string',
        required: true,
        mutability: 'immutable',
        uniqueness: 'server',
        description: "The user's name in the IAM (unique without regard to case; cannot change)",
      }),
      attribute({ name: 'displayName', type: 'string', description: 'display_name (150 characters at most)' }),
      attribute({
        name: 'name',
        type: 'complex',
        description: "The profile's full_name: formatted, else givenName middleName familyName",
        subAttributes: [
          attribute({ name: 'formatted', type: 'string', description: 'The full name' }),
          attribute({
            name: 'givenName',
            type: 'string',
            mutability: 'writeOnly',
            description: 'Folded into formatted',
          }),
          attribute({
            name: 'familyName',
            type: 'string',
            mutability: 'writeOnly',
            description: 'Folded into formatted',
          }),
        ],
      }),
      attribute({
        name: 'emails',
        type: 'complex',
        multiValued: true,
        description: "The primary address is the profile's email_address; one address is kept",
        subAttributes: [
          attribute({ name: 'value', type: 'string', description: 'The address' }),
          attribute({ name: 'type', type: 'string', description: 'work' }),
          attribute({ name: 'primary', type: 'boolean', description: 'true' }),
        ],
      }),
      attribute({ name: 'active', type: 'boolean', description: 'false: deactivated (no session, no sign-in)' }),
      attribute({
        name: 'groups',
        type: 'complex',
        multiValued: true,
        mutability: 'readOnly',
        description: "The user's groups (changed through Groups)",
        subAttributes: [
          attribute({ name: 'value', type: 'string', mutability: 'readOnly', description: 'The group id' }),
          attribute({ name: 'display', type: 'string', mutability: 'readOnly', description: 'Its displayName' }),
          attribute({
            name: '$ref',
            type: 'reference',
            mutability: 'readOnly',
            referenceTypes: ['Group'],
            description: 'Its URI',
          }),
        ],
      }),
    ],
  },
  {
    id: GROUP_SCHEMA,
    name: 'Group',
    description: 'An IAM group',
    attributes: [
      attribute({
        name: 'displayName',
        type: 'string',
        required: true,
        uniqueness: 'server',
        description: "display_name; the group's name is made from the first one (see the README)",
      }),
      attribute({
        name: 'members',
        type: 'complex',
        multiValued: true,
        description: 'The users in the group',
        subAttributes: [
          attribute({ name: 'value', type: 'string', mutability: 'immutable', description: 'The user id' }),
          attribute({ name: 'display', type: 'string', mutability: 'readOnly', description: 'Its displayName' }),
          attribute({
            name: '$ref',
            type: 'reference',
            mutability: 'immutable',
            referenceTypes: ['User'],
            description: 'Its URI',
          }),
        ],
      }),
    ],
  },
];

export function schemas(baseUrl: string): ScimResource[] {
  return SCHEMAS.map((schema) => ({
    schemas: [SCHEMA_SCHEMA],
    ...schema,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  }));
}

export const listOf = (resources: ScimResource[]): ScimResource => ({
  schemas: [LIST_SCHEMA],
  totalResults: resources.length,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

export function oneOf(resources: ScimResource[], id: string, kind: string): ScimResource {
  const found = resources.find((resource) => resource.id === id);
  if (!found) {
    throw ScimError.noTarget(`${kind} ${JSON.stringify(id.slice(0, 100))} not found`);
  }
  return found;
}
