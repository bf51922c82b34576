CREATE TABLE recovery_actions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id text NOT NULL REFERENCES recovery_cases (id) ON DELETE CASCADE
);
