import { Injectable, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { Widget } from './widget.entity.js';

const SEED: Widget[] = [
  { id: 1, name: 'Sprocket' },
  { id: 2, name: 'Gear' },
  { id: 3, name: 'Flange' },
];

@Injectable()
export class WidgetsService implements OnApplicationBootstrap {
  constructor(@InjectRepository(Widget) private readonly widgets: Repository<Widget>) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.widgets.upsert(SEED, ['id']);
  }

  async get(id: number): Promise<Widget> {
    const widget = await this.widgets.findOneBy({ id });
    if (widget === null) {
      throw new NotFoundException(`Widget ${id} not found`);
    }
    return { id: widget.id, name: widget.name };
  }
}
