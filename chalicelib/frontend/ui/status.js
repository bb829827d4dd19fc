// The generation statuses in which a generation is still going (queued or running): the same as
// chalicelib.domain.phases.ACTIVE, which tests/unit/test_frontend_constants.py checks.

export const ACTIVE_STATUSES = new Set(['queued', 'running']);
