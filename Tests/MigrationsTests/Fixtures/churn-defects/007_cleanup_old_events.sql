ALTER TABLE events ADD COLUMN archived boolean;
