import { Controller, Get } from '@nestjs/common';

@Controller('status')
export class StatusController {
  /** Public: the host's routes are left alone unless they ask for the IAM's guard. */
  @Get()
  status(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
