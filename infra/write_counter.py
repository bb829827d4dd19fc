"""SQL that counts how often each phase's (and part's) output is stored: a table `output_writes` filled
by triggers. The soak (infra/soak.py) and the tests that prove an output is stored once use it."""

# Counts every time a phase's output is stored (a phase_run turning succeeded); the fault matrix
# test uses it too. DROP_WRITE_COUNTER removes it.
COUNT_OUTPUT_WRITES = """
CREATE TABLE IF NOT EXISTS output_writes (generation_id uuid, phase text);
TRUNCATE output_writes;
CREATE OR REPLACE FUNCTION count_output_write() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'succeeded' AND OLD.status <> 'succeeded' THEN
    INSERT INTO output_writes VALUES (NEW.generation_id, NEW.phase);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION count_part_output_write() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'succeeded' AND OLD.status <> 'succeeded' THEN
    INSERT INTO output_writes VALUES (NEW.generation_id, NEW.phase || '/' || NEW.part);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS count_output_write ON phase_runs;
CREATE TRIGGER count_output_write AFTER UPDATE ON phase_runs
  FOR EACH ROW EXECUTE FUNCTION count_output_write();
DROP TRIGGER IF EXISTS count_part_output_write ON part_runs;
CREATE TRIGGER count_part_output_write AFTER UPDATE ON part_runs
  FOR EACH ROW EXECUTE FUNCTION count_part_output_write();
"""
DROP_WRITE_COUNTER = (
    "DROP TRIGGER count_output_write ON phase_runs; DROP TRIGGER count_part_output_write ON part_runs; "
    "DROP TABLE output_writes;"
)
