// The options the job was submitted with, as readable JSON.
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

const JobOptions = ({ record, property, resource }) => {
  const { translateProperty } = useTranslation();
  const text = record.params[property.path];
  if (!text) return null;
  return (
    <Box mb="xl">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      <pre data-testid="job-options" style={{ margin: 0, fontSize: 12 }}>
        {text}
      </pre>
    </Box>
  );
};

export default JobOptions;
