import { Get } from '@nestjs/common';
import { ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/access.decorators.js';
import { HealthService } from './health.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('health', 'health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Public. 200 when the database answers; otherwise 503 with the error body, `failed_checks` naming what failed. */
  @Get()
  @Public()
  @ApiServiceUnavailableResponse({
    description: 'Unhealthy: the error body, `failed_checks` naming the checks that failed',
    type: ErrorResponseDto,
  })
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check();
  }
}
