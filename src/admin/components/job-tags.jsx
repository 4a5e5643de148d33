// A job's tags as chips (list and job page); the server lists them in `tagsText`, comma-separated.
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

const chip = {
  display: 'inline-block',
  background: '#eef2ff',
  color: '#3730a3',
  borderRadius: 10,
  padding: '1px 8px',
  marginRight: 4,
  fontSize: 12,
};

const JobTags = ({ record, property, resource, where }) => {
  const { translateProperty } = useTranslation();
  const tags = (record.params.tagsText || '').split(',').filter(Boolean);
  const chips = (
    <span data-testid="job-tags">
      {tags.map((t) => (
        <span key={t} style={chip}>
          {t}
        </span>
      ))}
    </span>
  );
  if (where === 'list') return chips;
  return (
    <Box mb="xl">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      {tags.length ? chips : '—'}
    </Box>
  );
};

export default JobTags;
