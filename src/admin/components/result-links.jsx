// Links to a job's results in every format (served to the signed-in operator under the panel's root path).
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

const FORMATS = [
  ['json', 'JSON (pages, words, boxes)'],
  ['txt', 'Plain text'],
  ['hocr', 'hOCR'],
  ['alto', 'ALTO XML'],
  ['tsv', 'TSV'],
  ['pdf', 'Searchable PDF'],
];

const ResultLinks = ({ record, property, resource }) => {
  const { translateProperty } = useTranslation();
  const base = record.params[property.path];
  if (!base) return null;
  return (
    <Box mb="xl" data-testid="result-links">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      {FORMATS.map(([format, label]) => (
        <a key={format} href={`${base}?format=${format}`} data-testid={`result-${format}`} style={{ marginRight: 16 }}>
          {label}
        </a>
      ))}
    </Box>
  );
};

export default ResultLinks;
