import Foundation
import Postgres

extension ReplayStore {
    /// Written as the items table's comment once the tables are created or upgraded: a replay that finds it
    /// skips the DDL (one catalog read instead of a dozen statements under a lock before the first send).
    /// Bump it whenever `schema` changes, so tables made by an older opsctl are upgraded.
    static let schemaVersion = "opsctl replay items: one row per event of a replay (schema 2)"

    // The pieces both `schema` (upgrade) and `freshSchema` (tables absent) write, so the two cannot drift.
    /// One row per replay; `rate` and `concurrency`: the pace it was started with.
    static let replaysTable = """
        (
            replay_id text PRIMARY KEY,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text,
            target text NOT NULL,
            selection jsonb NOT NULL,
            total int NOT NULL DEFAULT 0,
            finished_at timestamptz,
            rate double precision,
            concurrency int
        )
        """
    /// The items table's columns, key and storage: one row per event of a replay.
    static let itemsTable = """
        (
            replay_id text NOT NULL,
            seq int NOT NULL,
            event_id text NOT NULL,
            event_type text,
            payload text NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
            attempts int NOT NULL DEFAULT 0,
            last_http_status int,
            error text,
            service_status text,
            claimed_by text,
            claimed_pid int,
            claimed_backend_start timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (replay_id, seq)
        ) WITH (fillfactor = 45)
        """
    /// Deleting or truncating replays removes their items (what ON DELETE CASCADE did).
    static let followReplays = """
        CREATE OR REPLACE FUNCTION opsctl.replay_items_follow_replays() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                TRUNCATE opsctl.replay_items;
            ELSE
                DELETE FROM opsctl.replay_items i USING gone g WHERE i.replay_id = g.replay_id;
            END IF;
            RETURN NULL;
        END $$
        """
    static let deleteTrigger = """
        CREATE TRIGGER replays_delete_items AFTER DELETE ON opsctl.replays REFERENCING OLD TABLE AS gone
            FOR EACH STATEMENT EXECUTE FUNCTION opsctl.replay_items_follow_replays()
        """
    static let truncateTrigger = """
        CREATE TRIGGER replays_truncate_items AFTER TRUNCATE ON opsctl.replays
            FOR EACH STATEMENT EXECUTE FUNCTION opsctl.replay_items_follow_replays()
        """
    /// Which run worked on which replay (`opsctl run replay --resume`).
    static let runsTable = """
        (
            run_id text PRIMARY KEY,
            replay_id text NOT NULL REFERENCES opsctl.replays ON DELETE CASCADE
        )
        """

    static let schema = """
        CREATE TABLE IF NOT EXISTS opsctl.replays \(replaysTable);
        -- Tables made before the pace was kept (--resume and --join keep it unless told otherwise).
        ALTER TABLE opsctl.replays ADD COLUMN IF NOT EXISTS rate double precision,
                                   ADD COLUMN IF NOT EXISTS concurrency int;
        -- One index, the key (replay_id, seq): claims read seq ranges, checkpoints find their rows by seq,
        -- every other reader filters on replay_id. Items are written once, by the creation of their replay
        -- in the transaction that inserts its opsctl.replays row (seq numbered by that one statement), so
        -- no foreign key checks them (its RI trigger per inserted row was ~40 % of creating a replay) and
        -- no (replay_id, event_id) index (written in random order, ~15 %): a selection is one query over
        -- the service's event store or a file whose duplicate ids are dropped as it is read. Deleting or
        -- truncating replays removes their items (the triggers below, what ON DELETE CASCADE did).
        CREATE TABLE IF NOT EXISTS opsctl.replay_items \(itemsTable);
        -- Checkpoints are HOT updates (no index entry written): no index holds a column they change,
        -- and each page keeps room for a new version of every row on it (a batch of outcomes updates
        -- all the rows of a page in one transaction, so their old versions cannot be pruned before).
        -- Tables made by older opsctl are upgraded: their (replay_id, status, seq) index made every
        -- checkpoint write a new row version and entries in every index; their foreign key to
        -- opsctl.replays and (replay_id, event_id) key give way to the (replay_id, seq) key; pages
        -- written before keep their packing.
        DROP INDEX IF EXISTS opsctl.replay_items_claim;
        DO $$
        DECLARE
            fk text;
            pk text;
            pk_columns text[];
        BEGIN
            FOR fk IN SELECT conname FROM pg_constraint
                       WHERE conrelid = 'opsctl.replay_items'::regclass AND contype = 'f' AND confrelid = 'opsctl.replays'::regclass LOOP
                EXECUTE format('ALTER TABLE opsctl.replay_items DROP CONSTRAINT %I', fk);
            END LOOP;
            SELECT c.conname, array_agg(a.attname::text ORDER BY k.n) INTO pk, pk_columns
              FROM pg_constraint c CROSS JOIN unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             WHERE c.conrelid = 'opsctl.replay_items'::regclass AND c.contype = 'p'
             GROUP BY c.conname;
            IF pk_columns IS DISTINCT FROM ARRAY['replay_id', 'seq'] THEN
                BEGIN
                    IF pk IS NOT NULL THEN
                        EXECUTE format('ALTER TABLE opsctl.replay_items DROP CONSTRAINT %I', pk);
                    END IF;
                    ALTER TABLE opsctl.replay_items ADD PRIMARY KEY (replay_id, seq);
                    DROP INDEX IF EXISTS opsctl.replay_items_seq;
                EXCEPTION WHEN unique_violation THEN
                    -- A seq twice in one replay (never written by any opsctl): the old key stays, seq gets its index.
                    CREATE INDEX IF NOT EXISTS replay_items_seq ON opsctl.replay_items (replay_id, seq);
                END;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = 'opsctl.replay_items'::regclass
                              AND 'fillfactor=45' = ANY (coalesce(reloptions, '{}'))) THEN
                ALTER TABLE opsctl.replay_items SET (fillfactor = 45);
            END IF;
        END $$;
        \(followReplays);
        DROP TRIGGER IF EXISTS replays_delete_items ON opsctl.replays;
        \(deleteTrigger);
        DROP TRIGGER IF EXISTS replays_truncate_items ON opsctl.replays;
        \(truncateTrigger);
        CREATE TABLE IF NOT EXISTS opsctl.replay_runs \(runsTable);
        """

    /// A database that has none of the tables: the current schema as plain CREATEs, without the upgrade
    /// (its DO block alone, compiled by PL/pgSQL in every new session, cost ~5 ms, most of creating the
    /// tables). No IF NOT EXISTS: a table found (made meanwhile by another worker, or by an older opsctl)
    /// fails the transaction with duplicate_table, and `ensureSchema` takes the upgrade path instead.
    static let freshSchema = """
        CREATE TABLE opsctl.replays \(replaysTable);
        CREATE TABLE opsctl.replay_items \(itemsTable);
        \(followReplays);
        \(deleteTrigger);
        \(truncateTrigger);
        CREATE TABLE opsctl.replay_runs \(runsTable)
        """

    /// Creates the tables (none there: `freshSchema`) or upgrades them unless they are current (OpsctlSchema:
    /// concurrent workers are serialised; the run's journal makes its own tables meanwhile).
    func ensureSchema() throws {
        var state = try schemaState()
        if state.current { return }
        let comment = "; COMMENT ON TABLE opsctl.replay_items IS '\(Self.schemaVersion)'"
        if state.absent {
            do {
                return try OpsctlSchema.create(db, Self.freshSchema + comment, tables: "replay")
            } catch let error as PostgresError where error.sqlState == "42P07" {
                // Made meanwhile by another worker (current now), or left in part by an older opsctl (upgraded).
                state = try schemaState()
                if state.current { return }
            }
        }
        try OpsctlSchema.create(db, Self.schema + comment, tables: "replay")
    }

    private func schemaState() throws -> (absent: Bool, current: Bool) {
        let row = try db.query("""
            SELECT to_regclass('opsctl.replay_items') IS NULL AS absent,
                   obj_description(to_regclass('opsctl.replay_items'), 'pg_class') = $1 AS current
            """, [Self.schemaVersion]).first
        return (row?["absent"].bool ?? false, row?["current"].bool ?? false)
    }
}
