import { Get, Param } from '@nestjs/common';
import { CurrentPrincipal, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { assertProvisioner } from './scim-access.js';
import { ScimBaseUrl, ScimController } from './scim-controller.decorator.js';
import { listOf, oneOf, resourceTypes, schemas, serviceProviderConfig } from './scim-discovery.js';
import type { ScimResource } from './scim-resources.js';

const SCIM = { from: 'all', kind: 'user' } as const;

/** ServiceProviderConfig, ResourceTypes and Schemas: for the same tokens as the resources. */
@ScimController('')
export class ScimDiscoveryController {
  @Get('ServiceProviderConfig')
  @RequirePermission('SCIM service provider configuration', 'iam:ScimProvision', SCIM)
  serviceProviderConfig(@CurrentPrincipal() principal: Principal, @ScimBaseUrl() baseUrl: string): ScimResource {
    assertProvisioner(principal);
    return serviceProviderConfig(baseUrl);
  }

  @Get('ResourceTypes')
  @RequirePermission('SCIM resource types', 'iam:ScimProvision', SCIM)
  resourceTypes(@CurrentPrincipal() principal: Principal, @ScimBaseUrl() baseUrl: string): ScimResource {
    assertProvisioner(principal);
    return listOf(resourceTypes(baseUrl));
  }

  @Get('ResourceTypes/:id')
  @RequirePermission('A SCIM resource type', 'iam:ScimProvision', SCIM)
  resourceType(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @ScimBaseUrl() baseUrl: string,
  ): ScimResource {
    assertProvisioner(principal);
    return oneOf(resourceTypes(baseUrl), id, 'ResourceType');
  }

  @Get('Schemas')
  @RequirePermission('SCIM schemas', 'iam:ScimProvision', SCIM)
  schemas(@CurrentPrincipal() principal: Principal, @ScimBaseUrl() baseUrl: string): ScimResource {
    assertProvisioner(principal);
    return listOf(schemas(baseUrl));
  }

  @Get('Schemas/:id')
  @RequirePermission('A SCIM schema', 'iam:ScimProvision', SCIM)
  schema(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @ScimBaseUrl() baseUrl: string,
  ): ScimResource {
    assertProvisioner(principal);
    return oneOf(schemas(baseUrl), id, 'Schema');
  }
}
