import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { IamAuthGuard, RequireAction } from 'iam-service';
import type { Widget } from './widget.entity.js';
import { WidgetsService } from './widgets.service.js';

@Controller('widgets')
export class WidgetsController {
  constructor(private readonly widgets: WidgetsService) {}

  /** Needs `widgets:Read` on `widgets:widget:<id>`, granted through the IAM's roles and groups. */
  @Get(':id')
  @UseGuards(IamAuthGuard)
  @RequireAction('widgets:Read', 'widgets:widget:{id}')
  get(@Param('id', ParseIntPipe) id: number): Promise<Widget> {
    return this.widgets.get(id);
  }

  /** Public: a form body, parsed by the host's own body parser, echoed back as JSON. */
  @Post('echo-form')
  @HttpCode(200)
  echoForm(@Body() form: Record<string, string>): Record<string, string> {
    return form;
  }

  /** Public: a JSON body parsed by the host; anything but `{"name": "<non-empty string>"}` is the host's own 422. */
  @Post('preview')
  @HttpCode(200)
  preview(@Body() body: unknown): { name: string; slug: string } {
    const name: unknown =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new UnprocessableEntityException('name must be a non-empty string');
    }
    return {
      name,
      slug: name
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-'),
    };
  }
}
