-- What list pages show of a model (the inventory without its tensor list, plus the tensor
-- count), so listing never reads the inventory, which grows with the number of tensors.
ALTER TABLE models ADD COLUMN summary jsonb;
UPDATE models SET summary = (inventory - 'tensors') || jsonb_build_object(
    'n_tensors',
    CASE WHEN jsonb_typeof(inventory -> 'tensors') = 'array'
         THEN jsonb_array_length(inventory -> 'tensors') ELSE 0 END);
