// An audit row's before and after, side by side (list: compact; page: full).
import React from 'react';
import { Box, Label } from '@adminjs/design-system';

const AuditChange = ({ record, property, where }) => {
  let change = { before: null, after: null };
  try {
    change = JSON.parse(record.params[property.path] || '{}');
  } catch {
    // shown empty
  }
  const text = (v) => (v === null || v === undefined ? '—' : JSON.stringify(v, null, where === 'list' ? 0 : 2));
  if (where === 'list') {
    return (
      <code data-testid="audit-change" style={{ fontSize: 11 }}>
        {`${text(change.before)} → ${text(change.after)}`.slice(0, 160)}
      </code>
    );
  }
  return (
    <Box mb="xl" data-testid="audit-change">
      <Label>Before</Label>
      <pre style={{ fontSize: 12 }}>{text(change.before)}</pre>
      <Label>After</Label>
      <pre style={{ fontSize: 12 }}>{text(change.after)}</pre>
    </Box>
  );
};

export default AuditChange;
