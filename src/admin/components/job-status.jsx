// A job's status as a coloured badge, each status its own colour (list and job page).
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

export const STATUS_COLOURS = {
  queued: '#6b7280',
  processing: '#2563eb',
  needs_password: '#b45309',
  completed: '#15803d',
  partial: '#a16207',
  failed: '#b91c1c',
  cancelled: '#7c3aed',
};

export const StatusBadge = ({ status }) => (
  <span
    data-testid={`status-${status}`}
    style={{
      background: STATUS_COLOURS[status] || '#374151',
      color: '#fff',
      borderRadius: 10,
      padding: '2px 8px',
      fontSize: 12,
      whiteSpace: 'nowrap',
    }}
  >
    {status}
  </span>
);

const JobStatus = ({ record, property, resource, where }) => {
  const { translateProperty } = useTranslation();
  const status = record.params[property.path];
  if (where === 'list') return <StatusBadge status={status} />;
  return (
    <Box mb="xl">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      <StatusBadge status={status} />
    </Box>
  );
};

export default JobStatus;
