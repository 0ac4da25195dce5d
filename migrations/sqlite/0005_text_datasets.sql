-- Text datasets (CSV or JSON Lines with a text column, tokenized at job time): `modality`
-- says which kind a dataset is, and an unlabelled text dataset has task 'none'. SQLite cannot
-- alter a CHECK constraint, so the table is rebuilt.
CREATE TABLE datasets_new (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    format        TEXT NOT NULL,
    artifact_key  TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    bytes         INTEGER NOT NULL CHECK (bytes >= 0),
    rows          INTEGER NOT NULL CHECK (rows >= 0),
    features      INTEGER NOT NULL CHECK (features >= 0),
    feature_names TEXT NOT NULL CHECK (json_valid(feature_names) AND json_type(feature_names) = 'array'),
    target        TEXT NOT NULL,
    task          TEXT NOT NULL CHECK (task IN ('classification', 'regression', 'none')),
    classes       TEXT CHECK (classes IS NULL OR (json_valid(classes) AND json_type(classes) = 'array')),
    created_at    TEXT NOT NULL,
    modality      TEXT NOT NULL DEFAULT 'tabular' CHECK (modality IN ('tabular', 'text'))
) STRICT;
INSERT INTO datasets_new (id, tenant_id, name, format, artifact_key, sha256, bytes, rows, features,
                          feature_names, target, task, classes, created_at, modality)
    SELECT id, tenant_id, name, format, artifact_key, sha256, bytes, rows, features,
           feature_names, target, task, classes, created_at, 'tabular' FROM datasets;
DROP TABLE datasets;
ALTER TABLE datasets_new RENAME TO datasets;
CREATE INDEX datasets_tenant_page_idx ON datasets (tenant_id, id DESC);
