-- Text datasets (CSV or JSON Lines with a text column, tokenized at job time): `modality`
-- says which kind a dataset is, and an unlabelled text dataset has task 'none'.
ALTER TABLE datasets DROP CONSTRAINT datasets_task_check;
ALTER TABLE datasets ADD CONSTRAINT datasets_task_check
    CHECK (task IN ('classification', 'regression', 'none'));
ALTER TABLE datasets ADD COLUMN modality text NOT NULL DEFAULT 'tabular'
    CHECK (modality IN ('tabular', 'text'));
