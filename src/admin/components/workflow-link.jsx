// Shows a job's Temporal workflow as a link (the URL is built on the server from TEMPORAL_UI_URL).
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

const WorkflowLink = ({ record, property, resource }) => {
  const { translateProperty } = useTranslation();
  const url = record.params[property.path];
  if (!url) return null;
  return (
    <Box mb="xl">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      <a href={url} target="_blank" rel="noreferrer" data-testid="workflow-link">
        Open the workflow in the Temporal UI
      </a>
    </Box>
  );
};

export default WorkflowLink;
