"""schemathesis hooks for the fuzz test (test/e2e/fuzz.test.ts, SCHEMATHESIS_HOOKS).

tus's PATCH body is application/offset+octet-stream: bytes, sent as schemathesis sends application/octet-stream.
"""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
