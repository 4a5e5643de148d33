// Pages done/total and the percentage, with a small bar (list and job page).
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

const Bar = ({ percent, text }) => (
  <span data-testid="job-progress" style={{ whiteSpace: 'nowrap' }}>
    <span
      style={{
        display: 'inline-block',
        width: 60,
        height: 8,
        background: '#e5e7eb',
        borderRadius: 4,
        marginRight: 6,
        verticalAlign: 'middle',
      }}
    >
      <span
        style={{
          display: 'block',
          width: `${Math.min(100, Number(percent) || 0)}%`,
          height: 8,
          background: '#2563eb',
          borderRadius: 4,
        }}
      />
    </span>
    {text}
  </span>
);

const JobProgress = ({ record, property, resource, where }) => {
  const { translateProperty } = useTranslation();
  const text = record.params[property.path] || '';
  const bar = <Bar percent={record.params.progressPercent} text={text} />;
  if (where === 'list') return bar;
  return (
    <Box mb="xl">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      {bar}
    </Box>
  );
};

export default JobProgress;
