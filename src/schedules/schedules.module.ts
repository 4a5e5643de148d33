import { Module } from '@nestjs/common';
import { SchedulesService } from './schedules.service.js';

/** Temporal Schedules for operators (the admin panel's Schedules resource). */
@Module({ providers: [SchedulesService], exports: [SchedulesService] })
export class SchedulesModule {}
