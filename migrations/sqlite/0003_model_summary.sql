-- What list pages show of a model (the inventory without its tensor list, plus the tensor
-- count), so listing never reads the inventory, which grows with the number of tensors.
ALTER TABLE models ADD COLUMN summary TEXT CHECK (summary IS NULL OR json_valid(summary));
UPDATE models SET summary = json_set(
    json_remove(inventory, '$.tensors'),
    '$.n_tensors',
    CASE WHEN json_type(inventory, '$.tensors') = 'array'
         THEN json_array_length(inventory, '$.tensors') ELSE 0 END);
