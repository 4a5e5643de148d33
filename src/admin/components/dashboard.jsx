// The panel's home page: job counts, a 24-hour chart (plain SVG, no chart library or CDN), queue depth
// and recent failures. Bundled by AdminJS's component loader; refreshes itself every few seconds.
import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';
import { Box, H2, H5, Text } from '@adminjs/design-system';

const REFRESH_MS = 5000;
const api = new ApiClient();

const card = { background: '#fff', padding: 16, marginBottom: 16, borderRadius: 4 };

function HourChart({ hours }) {
  const width = 720;
  const height = 160;
  const pad = 24;
  const max = Math.max(1, ...hours.map((h) => Math.max(h.jobs, h.pages)));
  const slot = (width - pad * 2) / hours.length;
  const y = (v) => height - pad - (v / max) * (height - pad * 2);
  return (
    <svg width="100%" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Jobs and pages per hour">
      <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} stroke="#999" />
      {hours.map((h, i) => (
        <g key={h.hour}>
          <rect
            x={pad + i * slot + 2}
            y={y(h.pages)}
            width={slot / 2 - 2}
            height={height - pad - y(h.pages)}
            fill="#8fb3e8"
          >
            <title>{`${h.hour.slice(11, 16)} UTC: ${h.pages} pages`}</title>
          </rect>
          <rect
            x={pad + i * slot + slot / 2}
            y={y(h.jobs)}
            width={slot / 2 - 2}
            height={height - pad - y(h.jobs)}
            fill="#3040d6"
          >
            <title>{`${h.hour.slice(11, 16)} UTC: ${h.jobs} jobs`}</title>
          </rect>
          {i % 4 === 0 ? (
            <text x={pad + i * slot} y={height - 6} fontSize="10" fill="#555">
              {h.hour.slice(11, 16)}
            </text>
          ) : null}
        </g>
      ))}
      <text x={pad} y={12} fontSize="11" fill="#555">
        {`max ${max} per hour · dark: jobs created · light: pages finished`}
      </text>
    </svg>
  );
}

const Dashboard = () => {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .getDashboard()
        .then((res) => alive && (setData(res.data), setError(null)))
        .catch((err) => alive && setError(String(err && err.message ? err.message : err)));
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <Box variant="grey" data-testid="folio-dashboard">
      <H2>Folio jobs</H2>
      {error ? <Text color="error">{`Could not load: ${error}`}</Text> : null}
      {data ? (
        <>
          <Box style={card}>
            <H5>Queue depth (queued + processing)</H5>
            <Text data-testid="queue-depth" style={{ fontSize: 32 }}>
              {data.queueDepth}
            </Text>
          </Box>
          <Box style={card}>
            <H5>Jobs by status</H5>
            <table>
              <tbody>
                {Object.entries(data.counts).map(([status, n]) => (
                  <tr key={status}>
                    <td style={{ paddingRight: 16 }}>{status}</td>
                    <td data-testid={`count-${status}`}>{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Box>
          <Box style={card}>
            <H5>Last 24 hours</H5>
            <HourChart hours={data.hours} />
          </Box>
          <Box style={card}>
            <H5>Recent failures</H5>
            {data.recentFailures.length === 0 ? <Text>None.</Text> : null}
            <table>
              <tbody>
                {data.recentFailures.map((f) => (
                  <tr key={f.id}>
                    <td style={{ paddingRight: 16 }}>
                      <a href={`/admin/resources/jobs/records/${f.id}/show`}>{f.filename || f.id}</a>
                    </td>
                    <td style={{ paddingRight: 16 }}>{f.status}</td>
                    <td style={{ paddingRight: 16 }}>
                      <code>{f.errorCode || ''}</code>
                    </td>
                    <td>{f.at.replace('T', ' ').slice(0, 19)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Box>
          <Text>{`Updated ${data.generatedAt.replace('T', ' ').slice(0, 19)} UTC; refreshes every ${REFRESH_MS / 1000} s.`}</Text>
        </>
      ) : (
        <Text>Loading…</Text>
      )}
    </Box>
  );
};

export default Dashboard;
