-- The files of a model stored as a folder (shards, index, config and tokenizer files):
-- a JSON list of {path, bytes, sha256, role}; NULL for a single-file model.
ALTER TABLE models ADD COLUMN files TEXT CHECK (files IS NULL OR json_valid(files));
