/** The legacy connection's guard lives in core/ (the worker's mirror uses it too); the API imports it here. */
export { guardLegacyConnection, LegacyWriteRefused } from '../../core/legacy/guard.js';
