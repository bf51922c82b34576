-- 003 create_recovery_actions: what was done for a case (nudges, incentives, terminations).
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE recovery_actions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id    text NOT NULL,
    case_id       text NOT NULL REFERENCES recovery_cases (id) ON DELETE CASCADE,
    membership_id text NOT NULL,
    user_id       text NOT NULL,
    type          text NOT NULL CHECK (type IN ('nudge_push', 'nudge_dm', 'incentive_applied',
                                                'case_cancelled', 'membership_terminated')),
    channel       text CHECK (channel IN ('push', 'dm')),
    metadata      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX recovery_actions_case ON recovery_actions (case_id, created_at);
