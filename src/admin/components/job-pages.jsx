// The job page's per-page table: state, method, attempts, duration and error of every page.
import React from 'react';
import { Box, Label } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

const PAGE_COLOURS = { done: '#15803d', failed: '#b91c1c', pending: '#6b7280', processing: '#2563eb' };
const cell = { padding: '4px 12px 4px 0', borderBottom: '1px solid #eee', textAlign: 'left' };

const JobPages = ({ record, property, resource }) => {
  const { translateProperty } = useTranslation();
  let pages = [];
  try {
    pages = JSON.parse(record.params[property.path] || '[]');
  } catch {
    pages = [];
  }
  return (
    <Box mb="xl">
      <Label>{translateProperty(property.path, resource.id)}</Label>
      {pages.length === 0 ? (
        <span>No pages recorded yet.</span>
      ) : (
        <table data-testid="job-pages" style={{ borderCollapse: 'collapse', fontSize: 13 }}>
          <thead>
            <tr>
              {['Page', 'State', 'Method', 'Attempts', 'Duration', 'Error'].map((h) => (
                <th key={h} style={cell}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {pages.map((p) => (
              <tr key={p.page} data-testid={`page-row-${p.page}`}>
                <td style={cell}>{p.page}</td>
                <td style={{ ...cell, color: PAGE_COLOURS[p.status] || '#111' }}>{p.status}</td>
                <td style={cell}>{p.method || ''}</td>
                <td style={cell}>{p.attempts}</td>
                <td style={cell}>{p.durationMs === null ? '' : `${(p.durationMs / 1000).toFixed(1)} s`}</td>
                <td style={cell}>{p.error || ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Box>
  );
};

export default JobPages;
