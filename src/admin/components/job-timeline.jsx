// A job's timeline from Temporal's histories (the document workflow, its children, its retries): each
// page's activity with its attempts, the failure that caused a retry, how it ended and how long it took.
import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';
import { Box, H3, H5, Text } from '@adminjs/design-system';

const api = new ApiClient();
const cell = { padding: '4px 12px 4px 0', borderBottom: '1px solid #eee', textAlign: 'left', verticalAlign: 'top' };
const OUTCOME_COLOURS = {
  completed: '#15803d',
  failed: '#b91c1c',
  'timed out': '#b45309',
  cancelled: '#7c3aed',
  running: '#2563eb',
};
const seconds = (ms) => (ms === null || ms === undefined ? '' : `${(ms / 1000).toFixed(2)} s`);
const time = (iso) => (iso ? iso.replace('T', ' ').slice(0, 23) : '');

const JobTimeline = ({ record, resource }) => {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api
      .recordAction({ resourceId: resource.id, recordId: record.id, actionName: 'timeline' })
      .then((res) => {
        if (res.data.timeline) setData(res.data.timeline);
        else setError(res.data.notice ? res.data.notice.message : 'No timeline.');
      })
      .catch((err) => setError(String(err && err.message ? err.message : err)));
  }, [record.id]);

  if (error) return <Text color="error">{`Could not load the timeline: ${error}`}</Text>;
  if (!data) return <Text>Loading the workflow histories…</Text>;
  const pages = data.activities.filter((a) => a.page !== null);
  const others = data.activities.filter((a) => a.page === null);
  const row = (a, i) => (
    <tr key={`${a.workflowId}-${i}`} data-testid={a.page === null ? 'timeline-step' : `timeline-page-${a.page}`}>
      <td style={cell}>{a.page === null ? '' : a.page}</td>
      <td style={cell}>{a.activity}</td>
      <td style={cell} data-testid="attempts">
        {a.attempts}
      </td>
      <td style={{ ...cell, color: OUTCOME_COLOURS[a.outcome] || '#111' }}>{a.outcome}</td>
      <td style={cell}>{seconds(a.durationMs)}</td>
      <td style={cell}>{a.retriedAfter ? `retried after: ${a.retriedAfter}` : ''}</td>
      <td style={cell}>{a.failure || ''}</td>
      <td style={cell}>{time(a.scheduledAt)}</td>
      <td style={{ ...cell, fontSize: 11 }}>{a.workflowId}</td>
    </tr>
  );
  const table = (rows, testId) => (
    <table data-testid={testId} style={{ borderCollapse: 'collapse', fontSize: 13, width: '100%' }}>
      <thead>
        <tr>
          {[
            'Page',
            'Activity',
            'Attempts',
            'Outcome',
            'Duration',
            'Retry',
            'Failure',
            'Scheduled (UTC)',
            'Workflow',
          ].map((h) => (
            <th key={h} style={cell}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{rows.map(row)}</tbody>
    </table>
  );
  return (
    <Box variant="white" data-testid="job-timeline">
      <H3>Timeline</H3>
      <H5>Workflow runs</H5>
      <table data-testid="timeline-workflows" style={{ borderCollapse: 'collapse', fontSize: 13, marginBottom: 24 }}>
        <thead>
          <tr>
            {['Workflow', 'Type', 'Status', 'Started (UTC)', 'Duration'].map((h) => (
              <th key={h} style={cell}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.workflows.map((w) => (
            <tr key={w.workflowId}>
              <td style={cell}>{w.workflowId}</td>
              <td style={cell}>{w.type}</td>
              <td style={cell}>{w.status}</td>
              <td style={cell}>{time(w.startedAt)}</td>
              <td style={cell}>{seconds(w.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <H5>Pages</H5>
      {pages.length === 0 ? <Text>No page activity yet.</Text> : table(pages, 'timeline-pages')}
      <H5 mt="xl">Other steps</H5>
      {table(others, 'timeline-steps')}
    </Box>
  );
};

export default JobTimeline;
