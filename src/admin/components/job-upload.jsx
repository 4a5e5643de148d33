// Upload a document from the panel: the same options as POST /v1/documents, sent to the jobs resource's
// `new` action, which submits it through the API's own path (typing, limits, dedupe, storage, workflow).
import React, { useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';
import { Box, Button, H3, Input, Label, Select, Text } from '@adminjs/design-system';

const api = new ApiClient();
const field = { marginBottom: 16, maxWidth: 560 };

const JobUpload = ({ resource }) => {
  const [meta, setMeta] = useState({ keys: [], maxUploadBytes: 0 });
  const [file, setFile] = useState(null);
  const [languages, setLanguages] = useState('');
  const [pages, setPages] = useState('');
  const [ocrMode, setOcrMode] = useState('auto');
  const [callbackUrl, setCallbackUrl] = useState('');
  const [apiKeyId, setApiKeyId] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);

  useEffect(() => {
    api.resourceAction({ resourceId: resource.id, actionName: 'new' }).then((res) => setMeta(res.data));
  }, []);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setResult(null);
    const form = new FormData();
    if (file) form.append('file', file);
    const fields = { languages, pages, ocrMode, callbackUrl, apiKeyId, password };
    for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
    try {
      const res = await api.resourceAction({ resourceId: resource.id, actionName: 'new', method: 'post', data: form });
      setResult(res.data);
    } catch (err) {
      setResult({ notice: { type: 'error', message: String(err && err.message ? err.message : err) } });
    } finally {
      setBusy(false);
    }
  };

  const keyOptions = [{ value: '', label: 'No key (the job records you as its uploader)' }].concat(
    (meta.keys || []).map((k) => ({ value: k.id, label: `${k.name} (${k.role})` })),
  );
  return (
    <Box variant="white" as="form" onSubmit={submit} data-testid="job-upload">
      <H3>Upload a document</H3>
      <Box style={field}>
        <Label required>PDF or image (PNG, JPEG, TIFF, WebP)</Label>
        <input
          type="file"
          name="file"
          data-testid="upload-file"
          onChange={(e) => setFile(e.target.files && e.target.files[0])}
        />
        {meta.maxUploadBytes ? <Text>{`At most ${Math.floor(meta.maxUploadBytes / 1048576)} MiB.`}</Text> : null}
      </Box>
      <Box style={field}>
        <Label>Languages (e.g. eng+kor, or auto; empty: the default)</Label>
        <Input
          name="languages"
          data-testid="upload-languages"
          value={languages}
          onChange={(e) => setLanguages(e.target.value)}
        />
      </Box>
      <Box style={field}>
        <Label>Pages (e.g. 1-3,7; empty: all)</Label>
        <Input name="pages" data-testid="upload-pages" value={pages} onChange={(e) => setPages(e.target.value)} />
      </Box>
      <Box style={field}>
        <Label>OCR mode</Label>
        <Select
          value={{ value: ocrMode, label: ocrMode }}
          options={['auto', 'force', 'skip'].map((m) => ({ value: m, label: m }))}
          onChange={(o) => setOcrMode(o ? o.value : 'auto')}
        />
      </Box>
      <Box style={field}>
        <Label>On behalf of an API key (its webhooks, its job list)</Label>
        <Select
          value={keyOptions.find((o) => o.value === apiKeyId)}
          options={keyOptions}
          onChange={(o) => setApiKeyId(o ? o.value : '')}
        />
      </Box>
      <Box style={field}>
        <Label>Callback URL (needs a key with a webhook secret)</Label>
        <Input name="callbackUrl" value={callbackUrl} onChange={(e) => setCallbackUrl(e.target.value)} />
      </Box>
      <Box style={field}>
        <Label>Password (an encrypted PDF's; sealed, never stored in clear)</Label>
        <Input
          name="password"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Box>
      <Button type="submit" variant="contained" disabled={busy} data-testid="upload-submit">
        {busy ? 'Uploading…' : 'Upload'}
      </Button>
      {result && result.notice ? (
        <Box mt="xl" data-testid="upload-result">
          <Text color={result.notice.type === 'error' ? 'error' : 'success'}>{result.notice.message}</Text>
          {result.redirectUrl ? (
            <a href={result.redirectUrl} data-testid="upload-job-link">
              Open the job
            </a>
          ) : null}
        </Box>
      ) : null}
    </Box>
  );
};

export default JobUpload;
