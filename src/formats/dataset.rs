//! Tabular datasets: CSV (header row, a named target column) and NPY (a 2-D numeric array)
//! parsed into a dense f32 feature matrix plus a target vector, with the task (classification
//! or regression) given by the user or inferred from the target values.
//!
//! Every rejection says where the problem is: CSV errors name the line as an editor shows it
//! (the header is line 1) and the column name; NPY errors name the 0-based row and column.

use std::collections::{HashMap, VecDeque};
use std::io::Read;

use ndarray::{Array2, ArrayView2};

use crate::formats::FormatError;

/// Largest number of distinct whole-number targets for which classification is inferred.
pub const MAX_INFERRED_CLASSES: usize = 100;

/// Largest number of classes a classification dataset may have.
pub const MAX_CLASSES: usize = 10_000;

/// What the target column means (one definition for datasets, specs and kernels).
pub use crate::kernels::nn::Task;

/// A parsed dataset: features, target and the task they describe.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Features, shape [rows, features], standard (row-major) layout.
    pub x: Array2<f32>,
    /// Class index (classification) or value (regression), one per row.
    pub y: Vec<f32>,
    /// One name per feature column, in column order.
    pub feature_names: Vec<String>,
    /// Name of the target column.
    pub target: String,
    /// Classification or regression.
    pub task: Task,
    /// Class labels in index order (classification only).
    pub classes: Option<Vec<String>>,
}

impl Dataset {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }
}

/// How to read a CSV dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Target column name; `None` means the last column.
    pub target: Option<String>,
    /// Task; `None` means infer it (see [`infer_task`]).
    pub task: Option<Task>,
    /// Refuse files with more data rows than this.
    pub max_rows: usize,
    /// Refuse files with more feature columns than this.
    pub max_features: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            target: None,
            task: None,
            max_rows: 10_000_000,
            max_features: 100_000,
        }
    }
}

/// How to read an NPY dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyOptions {
    /// Target column index; `None` means the last column.
    pub target_column: Option<usize>,
    /// Task; `None` means infer it (see [`infer_task`]).
    pub task: Option<Task>,
    /// Refuse arrays with more rows than this.
    pub max_rows: usize,
    /// Refuse arrays with more feature columns than this.
    pub max_features: usize,
}

impl Default for NpyOptions {
    fn default() -> Self {
        NpyOptions {
            target_column: None,
            task: None,
            max_rows: 10_000_000,
            max_features: 100_000,
        }
    }
}

/// Infer the task from numeric targets.
///
/// Rule: classification when every value is a whole number, there are at most
/// [`MAX_INFERRED_CLASSES`] distinct values, and either at most 2 distinct values or at least
/// two rows per distinct value on average (`2 × distinct ≤ rows`); otherwise regression.
/// Text targets are always classification. Pass an explicit task to override.
pub fn infer_task(values: &[f64]) -> Task {
    if !values.iter().all(|&v| is_whole(v)) {
        return Task::Regression;
    }
    let distinct = distinct_sorted(values).len();
    if distinct <= MAX_INFERRED_CLASSES && (distinct <= 2 || 2 * distinct <= values.len()) {
        Task::Classification
    } else {
        Task::Regression
    }
}

/// Whole numbers small enough to render exactly as integers.
fn is_whole(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15
}

fn distinct_sorted(values: &[f64]) -> Vec<f64> {
    // Adding 0.0 turns -0.0 into 0.0, so both are the same label.
    let mut d: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
    d.sort_unstable_by(f64::total_cmp);
    d.dedup();
    d
}

fn at(location: impl Into<String>, message: impl Into<String>) -> FormatError {
    FormatError::At {
        location: location.into(),
        message: message.into(),
    }
}

fn invalid(message: impl Into<String>) -> FormatError {
    FormatError::Invalid(message.into())
}

/// Parse a CSV dataset: a header row, then one row per example, all feature cells numeric.
///
/// Cells are trimmed; a UTF-8 byte-order mark is ignored. Missing values, NaN and infinities
/// are refused with the line and column named.
pub fn parse_csv<R: Read>(reader: R, opts: &CsvOptions) -> Result<Dataset, FormatError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(LineTracker::new(reader));
    let mut record = csv::ByteRecord::new();
    let line_of = |rdr: &mut csv::Reader<LineTracker<R>>, record: &csv::ByteRecord| {
        let byte = record.position().map_or(0, |p| p.byte());
        rdr.get_mut().line_at(byte)
    };

    if !read_record(&mut rdr, &mut record)? {
        return Err(invalid(
            "empty file: a CSV dataset needs a header row and at least one data row",
        ));
    }
    // Leading blank lines are skipped by the reader, so the header is not always line 1.
    let header_line = format!("line {}", line_of(&mut rdr, &record));
    let columns = header_names(&record, &header_line, opts.max_features.saturating_add(1))?;
    if let [only] = &columns[..] {
        return Err(invalid(format!(
            "the header has only the column '{only}': a dataset needs at least one feature column and a target column"
        )));
    }
    let target_col = match &opts.target {
        None => columns.len() - 1,
        Some(name) => columns.iter().position(|c| c == name).ok_or_else(|| {
            invalid(format!(
                "target column '{name}' not found; the columns are: {}",
                list_columns(&columns)
            ))
        })?,
    };
    let target_name = columns.get(target_col).cloned().unwrap_or_default();
    let n_features = columns.len() - 1;
    if n_features > opts.max_features {
        return Err(FormatError::TooLarge(format!(
            "{n_features} feature columns, more than the limit of {}",
            opts.max_features
        )));
    }

    let mut x: Vec<f32> = Vec::new();
    let mut targets = TextColumn::default();
    let mut lines: Vec<u64> = Vec::new();
    while read_record(&mut rdr, &mut record)? {
        let line = line_of(&mut rdr, &record);
        if lines.len() >= opts.max_rows {
            return Err(FormatError::TooLarge(format!(
                "more than {} data rows (line {line})",
                opts.max_rows
            )));
        }
        if record.len() != columns.len() {
            return Err(at(
                format!("line {line}"),
                format!(
                    "row has {} fields but the header has {} columns",
                    record.len(),
                    columns.len()
                ),
            ));
        }
        for ((j, cell), name) in record.iter().enumerate().zip(&columns) {
            // Trimming here rather than with csv's `Trim::All` avoids rebuilding each record.
            let cell = cell.trim_ascii();
            if j == target_col {
                targets.push(cell);
                continue;
            }
            let value = parse_feature(cell)
                .map_err(|message| at(format!("line {line}, column '{name}'"), message))?;
            x.push(value);
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(invalid("the file has a header row but no data rows"));
    }

    let locate = |i: usize| match lines.get(i) {
        Some(line) => format!("line {line}, column '{target_name}'"),
        None => format!("column '{target_name}'"),
    };
    let Targets { y, task, classes } = targets.into_targets(opts.task, &locate)?;
    let n_rows = lines.len();
    let x = Array2::from_shape_vec((n_rows, n_features), x)
        .map_err(|e| invalid(format!("internal shape error: {e}")))?;
    let feature_names = columns
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != target_col)
        .map(|(_, c)| c.clone())
        .collect();
    Ok(Dataset {
        x,
        y,
        feature_names,
        target: target_name,
        task,
        classes,
    })
}

/// Maps csv's record positions to the line numbers an editor shows. csv's own
/// `Position::line` is taken before blank lines are skipped and lags behind on CRLF files,
/// while `Position::byte` reliably points just past the previous record's terminator; the
/// record itself starts at the next byte that is not `\r` or `\n`.
struct LineTracker<R> {
    inner: R,
    offset: u64,
    newlines: u64,
    after_newline: bool,
    /// (offset, 1-based line) of each line start with content not yet passed by the parser.
    starts: VecDeque<(u64, u64)>,
}

impl<R: Read> LineTracker<R> {
    fn new(inner: R) -> Self {
        LineTracker {
            inner,
            offset: 0,
            newlines: 0,
            after_newline: true,
            starts: VecDeque::new(),
        }
    }

    /// Line of the record whose csv position is `byte` (positions only move forward).
    fn line_at(&mut self, byte: u64) -> u64 {
        while self
            .starts
            .front()
            .is_some_and(|&(offset, _)| offset < byte)
        {
            self.starts.pop_front();
        }
        self.starts
            .front()
            .map_or(self.newlines + 1, |&(_, line)| line)
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = buf.get(..n).unwrap_or_default();
        let mut i = 0;
        while i < data.len() {
            if self.after_newline {
                // Skip a run of line terminators (blank lines included), counting LFs.
                while let Some(&b) = data.get(i) {
                    match b {
                        b'\n' => self.newlines += 1,
                        b'\r' => {}
                        _ => break,
                    }
                    i += 1;
                }
                if i == data.len() {
                    break;
                }
                self.starts
                    .push_back((self.offset + i as u64, self.newlines + 1));
                self.after_newline = false;
            }
            // Content up to the next terminator: the common case, kept to a tight scan.
            match data
                .get(i..)
                .and_then(|rest| rest.iter().position(|&b| b == b'\n' || b == b'\r'))
            {
                Some(p) => {
                    i += p;
                    self.after_newline = true;
                }
                None => i = data.len(),
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn read_record<R: Read>(
    rdr: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
) -> Result<bool, FormatError> {
    rdr.read_byte_record(record).map_err(|e| {
        let line = e.position().map(|p| format!(" at line {}", p.line()));
        invalid(format!("cannot read CSV{}: {e}", line.unwrap_or_default()))
    })
}

/// Column names of the header row: linear in the number of cells (duplicates found with a
/// hash map), and refused as soon as there are more than `max_columns` cells.
fn header_names(
    record: &csv::ByteRecord,
    line: &str,
    max_columns: usize,
) -> Result<Vec<String>, FormatError> {
    if record.len() > max_columns {
        return Err(FormatError::TooLarge(format!(
            "the header has {} columns, more than the limit of {max_columns} (features and target)",
            record.len()
        )));
    }
    let mut names = Vec::with_capacity(record.len());
    let mut first_of: HashMap<&str, usize> = HashMap::with_capacity(record.len());
    for (j, cell) in record.iter().enumerate() {
        let cell = if j == 0 {
            cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
        } else {
            cell
        };
        let name = std::str::from_utf8(cell)
            .map_err(|_| at(line, format!("header cell {} is not valid UTF-8", j + 1)))?
            .trim();
        if name.is_empty() {
            return Err(at(
                line,
                format!(
                    "column {} has an empty name; every column needs a header",
                    j + 1
                ),
            ));
        }
        if name.contains('\0') {
            return Err(at(
                line,
                format!(
                    "header cell {} contains U+0000 (NUL), which names may not hold",
                    j + 1
                ),
            ));
        }
        if let Some(first) = first_of.insert(name, j) {
            return Err(at(
                line,
                format!(
                    "duplicate column name '{name}' (columns {} and {})",
                    first + 1,
                    j + 1
                ),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

fn list_columns(columns: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = columns
        .iter()
        .take(SHOWN)
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if columns.len() > SHOWN {
        text.push_str(&format!(" … and {} more", columns.len() - SHOWN));
    }
    text
}

fn parse_feature(cell: &[u8]) -> Result<f32, String> {
    if cell.is_empty() {
        return Err("empty cell; missing values are not supported".into());
    }
    let text = std::str::from_utf8(cell).map_err(|_| "cell is not valid UTF-8".to_string())?;
    let value: f32 = text
        .parse()
        .map_err(|_| format!("'{}' is not a number", shorten(text)))?;
    if !value.is_finite() {
        return Err(format!(
            "'{}' is not a finite number (NaN and infinities are not allowed)",
            shorten(text)
        ));
    }
    Ok(value)
}

fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// Decoded target column: `y`, the task and the class labels.
struct Targets {
    y: Vec<f32>,
    task: Task,
    classes: Option<Vec<String>>,
}

/// Target cells stored in one byte arena, so reading them allocates per column, not per cell.
#[derive(Default)]
struct TextColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl TextColumn {
    fn push(&mut self, cell: &[u8]) {
        self.bytes.extend_from_slice(cell);
        self.ends.push(self.bytes.len());
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.bytes.get(start..end).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Decide numeric vs text targets, then the task, classes and `y`.
    fn into_targets(
        self,
        task: Option<Task>,
        locate: &dyn Fn(usize) -> String,
    ) -> Result<Targets, FormatError> {
        let mut numbers = Vec::with_capacity(self.len());
        let mut first_text: Option<usize> = None;
        for i in 0..self.len() {
            let cell = self.get(i);
            if cell.is_empty() {
                return Err(at(locate(i), "empty target value"));
            }
            let text = std::str::from_utf8(cell)
                .map_err(|_| at(locate(i), "target value is not valid UTF-8"))?;
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => numbers.push(v),
                Ok(_) => {
                    return Err(at(
                        locate(i),
                        format!("target '{}' is not a finite number", shorten(text)),
                    ))
                }
                Err(_) => {
                    first_text = Some(i);
                    break;
                }
            }
        }
        let Some(text_row) = first_text else {
            return numeric_targets(&numbers, task, locate);
        };
        if task == Some(Task::Regression) {
            let shown = String::from_utf8_lossy(self.get(text_row)).into_owned();
            return Err(at(
                locate(text_row),
                format!(
                    "target '{}' is not a number; regression needs numeric targets",
                    shorten(&shown)
                ),
            ));
        }
        self.text_labels(locate)
    }

    /// Classification over text labels, classes sorted lexicographically (by bytes).
    fn text_labels(&self, locate: &dyn Fn(usize) -> String) -> Result<Targets, FormatError> {
        let mut ids: HashMap<&[u8], usize> = HashMap::new();
        let mut row_ids = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let cell = self.get(i);
            if cell.contains(&0) {
                return Err(at(
                    locate(i),
                    "target label contains U+0000 (NUL), which labels may not hold",
                ));
            }
            let next = ids.len();
            let id = *ids.entry(cell).or_insert(next);
            if ids.len() > MAX_CLASSES {
                return Err(at(
                    locate(i),
                    format!("more than {MAX_CLASSES} distinct target labels"),
                ));
            }
            row_ids.push(id);
        }
        let mut labels: Vec<(&[u8], usize)> = ids.into_iter().collect();
        labels.sort_unstable();
        let mut rank = vec![0usize; labels.len()];
        for (r, &(_, id)) in labels.iter().enumerate() {
            if let Some(slot) = rank.get_mut(id) {
                *slot = r;
            }
        }
        let y = row_ids
            .iter()
            .map(|&id| rank.get(id).copied().unwrap_or(0) as f32)
            .collect();
        let classes = labels
            .iter()
            .map(|(l, _)| String::from_utf8_lossy(l).into_owned())
            .collect();
        Ok(Targets {
            y,
            task: Task::Classification,
            classes: Some(classes),
        })
    }
}

/// Task, classes and `y` for all-numeric targets (shared by CSV and NPY).
fn numeric_targets(
    values: &[f64],
    task: Option<Task>,
    locate: &dyn Fn(usize) -> String,
) -> Result<Targets, FormatError> {
    match task.unwrap_or_else(|| infer_task(values)) {
        Task::Regression => {
            let mut y = Vec::with_capacity(values.len());
            for (i, &v) in values.iter().enumerate() {
                let f = v as f32;
                if !f.is_finite() {
                    return Err(at(
                        locate(i),
                        format!("target {v} is outside the float32 range"),
                    ));
                }
                y.push(f);
            }
            Ok(Targets {
                y,
                task: Task::Regression,
                classes: None,
            })
        }
        Task::Classification => {
            if let Some(i) = values.iter().position(|&v| !is_whole(v)) {
                return Err(at(
                    locate(i),
                    format!(
                        "classification needs whole-number or text labels, found {}",
                        values[i]
                    ),
                ));
            }
            let distinct = distinct_sorted(values);
            if distinct.len() > MAX_CLASSES {
                return Err(invalid(format!(
                    "{} distinct target labels, more than the limit of {MAX_CLASSES} classes",
                    distinct.len()
                )));
            }
            let y = values
                .iter()
                .map(|v| {
                    let key = v + 0.0;
                    distinct
                        .binary_search_by(|d| d.total_cmp(&key))
                        .unwrap_or(0) as f32
                })
                .collect();
            // Whole numbers below 2^53 print exactly as integers ("1.0" → "1").
            let classes = distinct.iter().map(|&d| format!("{}", d as i64)).collect();
            Ok(Targets {
                y,
                task: Task::Classification,
                classes: Some(classes),
            })
        }
    }
}

/// Parse a `.npy` file holding a 2-D numeric array (float32/64, signed or unsigned ints,
/// C or Fortran order, either byte order) whose columns are features plus one target column.
///
/// Columns are named `f{index}` after their position in the array (the target keeps its own
/// index, e.g. `f64` for the last of 65 columns).
pub fn parse_npy(bytes: &[u8], opts: &NpyOptions) -> Result<Dataset, FormatError> {
    let header = NpyHeader::read(bytes)?;
    if header.shape.len() != 2 {
        return Err(invalid(format!(
            "expected a 2-D array [rows, columns], found a {}-D array with shape {:?}",
            header.shape.len(),
            header.shape
        )));
    }
    let kind = header.descr.get(1..).unwrap_or("");
    let item_bytes: u64 = match kind {
        "f8" | "i8" | "u8" => 8,
        "f4" | "i4" | "u4" => 4,
        "i2" | "u2" => 2,
        "i1" | "u1" => 1,
        _ => {
            return Err(FormatError::Unsupported(format!(
                "NPY dtype '{}' is not supported; use float32, float64 or an integer type",
                header.descr
            )))
        }
    };
    // Check the size before decoding so a hostile shape can never trigger a huge allocation.
    let needed = header
        .shape
        .iter()
        .try_fold(item_bytes, |acc, &d| acc.checked_mul(d as u64));
    if needed != Some(header.data_bytes as u64) {
        return Err(invalid(format!(
            "NPY shape {:?} of '{}' needs {} bytes of data but the file has {} (truncated or corrupt)",
            header.shape,
            header.descr,
            needed.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
            header.data_bytes
        )));
    }
    macro_rules! read_as {
        ($t:ty) => {{
            let a = read_array::<$t>(bytes)?;
            dataset_from_columns(a.view(), |v| v as f64, opts)
        }};
    }
    match kind {
        "f4" => {
            let a = read_array::<f32>(bytes)?;
            dataset_from_columns(a.view(), f64::from, opts)
        }
        "f8" => read_as!(f64),
        "i1" => read_as!(i8),
        "i2" => read_as!(i16),
        "i4" => read_as!(i32),
        "i8" => read_as!(i64),
        "u1" => read_as!(u8),
        "u2" => read_as!(u16),
        "u4" => read_as!(u32),
        _ => read_as!(u64),
    }
}

/// The header fields we need before handing the file to `ndarray-npy`.
struct NpyHeader {
    descr: String,
    shape: Vec<usize>,
    data_bytes: usize,
}

impl NpyHeader {
    /// Parse the magic, version and the `descr` and `shape` entries of the header dict.
    fn read(bytes: &[u8]) -> Result<NpyHeader, FormatError> {
        let not_npy = || invalid("not an NPY file (missing the \\x93NUMPY magic)");
        let rest = bytes.strip_prefix(b"\x93NUMPY").ok_or_else(not_npy)?;
        let (major, rest) = rest.split_first().ok_or_else(not_npy)?;
        let rest = rest.get(1..).ok_or_else(not_npy)?;
        let (len, rest) = match major {
            1 => {
                let (len, rest) = rest.split_first_chunk::<2>().ok_or_else(not_npy)?;
                (usize::from(u16::from_le_bytes(*len)), rest)
            }
            2 | 3 => {
                let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(not_npy)?;
                (u32::from_le_bytes(*len) as usize, rest)
            }
            v => {
                return Err(FormatError::Unsupported(format!(
                    "NPY format version {v} is not supported"
                )))
            }
        };
        let dict = rest
            .get(..len)
            .ok_or_else(|| invalid("NPY header is truncated"))?;
        let data_bytes = rest.len() - len;
        let dict = std::str::from_utf8(dict).map_err(|_| invalid("NPY header is not text"))?;
        let descr = dict_value(dict, "descr")
            .and_then(|v| {
                let v = v.trim_start();
                let quote = v.chars().next().filter(|c| *c == '\'' || *c == '"')?;
                let body = v.get(1..)?;
                body.get(..body.find(quote)?).map(str::to_string)
            })
            .ok_or_else(|| {
                FormatError::Unsupported(
                    "NPY header has no simple 'descr' (structured arrays are not supported)".into(),
                )
            })?;
        let shape = dict_value(dict, "shape")
            .and_then(|v| {
                let v = v.trim_start().strip_prefix('(')?;
                v.get(..v.find(')')?)?
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<usize>().ok())
                    .collect::<Option<Vec<usize>>>()
            })
            .ok_or_else(|| invalid("NPY header has no readable 'shape'"))?;
        Ok(NpyHeader {
            descr,
            shape,
            data_bytes,
        })
    }
}

/// The text after `'key':` in a Python dict literal, up to the end of the dict.
fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    for quote in ['\'', '"'] {
        let pattern = format!("{quote}{key}{quote}");
        if let Some(pos) = dict.find(&pattern) {
            let after = dict.get(pos + pattern.len()..)?.trim_start();
            return after.strip_prefix(':');
        }
    }
    None
}

fn read_array<T: ndarray_npy::ReadableElement>(bytes: &[u8]) -> Result<Array2<T>, FormatError> {
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    Array2::<T>::read_npy(bytes).map_err(|e| match e {
        ReadNpyError::WrongNdim(_, actual) => invalid(format!(
            "expected a 2-D array [rows, columns], found a {actual}-D array"
        )),
        ReadNpyError::MissingData => invalid("NPY data is truncated"),
        ReadNpyError::ExtraBytes(n) => invalid(format!("{n} unexpected bytes after the NPY data")),
        other => invalid(format!("cannot read NPY: {other}")),
    })
}

fn dataset_from_columns<T: Copy>(
    a: ArrayView2<'_, T>,
    to_f64: impl Fn(T) -> f64,
    opts: &NpyOptions,
) -> Result<Dataset, FormatError> {
    let (rows, cols) = a.dim();
    let target_col = opts.target_column.unwrap_or(cols.saturating_sub(1));
    if cols < 2 {
        return Err(invalid(format!(
            "the array has {cols} column(s): a dataset needs at least one feature column and a target column"
        )));
    }
    if target_col >= cols {
        return Err(invalid(format!(
            "target column {target_col} does not exist; the array has {cols} columns (0..{})",
            cols - 1
        )));
    }
    if rows == 0 {
        return Err(invalid("the array has no rows"));
    }
    if rows > opts.max_rows {
        return Err(FormatError::TooLarge(format!(
            "{rows} rows, more than the limit of {}",
            opts.max_rows
        )));
    }
    if cols - 1 > opts.max_features {
        return Err(FormatError::TooLarge(format!(
            "{} feature columns, more than the limit of {}",
            cols - 1,
            opts.max_features
        )));
    }
    let mut x = Vec::with_capacity(rows * (cols - 1));
    let mut targets = Vec::with_capacity(rows);
    for (i, row) in a.rows().into_iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let v = to_f64(v);
            if j == target_col {
                if !v.is_finite() {
                    return Err(at(
                        format!("row {i}, column {j} (target)"),
                        "target is NaN or infinite",
                    ));
                }
                targets.push(v);
                continue;
            }
            let f = v as f32;
            if !f.is_finite() {
                return Err(at(
                    format!("row {i}, column {j}"),
                    format!("{v} is not a finite float32 (NaN and infinities are not allowed)"),
                ));
            }
            x.push(f);
        }
    }
    let locate = |i: usize| format!("row {i}, column {target_col} (target)");
    let Targets { y, task, classes } = numeric_targets(&targets, opts.task, &locate)?;
    let x = Array2::from_shape_vec((rows, cols - 1), x)
        .map_err(|e| invalid(format!("internal shape error: {e}")))?;
    Ok(Dataset {
        x,
        y,
        feature_names: (0..cols)
            .filter(|&j| j != target_col)
            .map(|j| format!("f{j}"))
            .collect(),
        target: format!("f{target_col}"),
        task,
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read(path).expect("fixture present")
    }

    fn csv(text: &str) -> Result<Dataset, FormatError> {
        parse_csv(text.as_bytes(), &CsvOptions::default())
    }

    fn csv_with(
        text: &str,
        target: Option<&str>,
        task: Option<Task>,
    ) -> Result<Dataset, FormatError> {
        let opts = CsvOptions {
            target: target.map(str::to_string),
            task,
            ..CsvOptions::default()
        };
        parse_csv(text.as_bytes(), &opts)
    }

    fn assert_error(result: Result<Dataset, FormatError>, needles: &[&str]) {
        let e = result.expect_err("expected an error");
        let text = e.to_string();
        for n in needles {
            assert!(text.contains(n), "message {text:?} should mention {n:?}");
        }
    }

    #[test]
    fn digits_fixtures_parse() {
        let bytes = fixture("digits_train.csv");
        let d = parse_csv(&bytes[..], &CsvOptions::default()).unwrap();
        assert_eq!((d.n_rows(), d.n_features()), (1437, 64));
        assert_eq!(d.target, "label");
        assert_eq!(d.task, Task::Classification);
        let want: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(d.classes.as_ref(), Some(&want));
        assert_eq!(d.feature_names.first().map(String::as_str), Some("f0"));
        assert_eq!(d.feature_names.last().map(String::as_str), Some("f63"));
        // First data row checked against a plain split of the text.
        let text = String::from_utf8(bytes).unwrap();
        let first: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
        for (j, cell) in first.iter().take(64).enumerate() {
            assert_eq!(d.x[[0, j]], cell.parse::<f32>().unwrap());
        }
        // Labels are digits, so the class index equals the label.
        assert_eq!(d.y[0], first[64].parse::<f32>().unwrap());
        assert_eq!(d.y.len(), 1437);
        assert!(d.y.iter().all(|&i| (0.0..10.0).contains(&i)));

        let t = parse_csv(&fixture("digits_test.csv")[..], &CsvOptions::default()).unwrap();
        assert_eq!((t.n_rows(), t.n_features()), (360, 64));
    }

    #[test]
    fn target_by_name_and_unknown_target() {
        let d = csv_with("a,y,b\n1,0,2\n3,1,4\n", Some("y"), None).unwrap();
        assert_eq!(d.feature_names, ["a", "b"]);
        assert_eq!(d.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(d.y, [0.0, 1.0]);
        assert_error(
            csv_with("a,y,b\n1,0,2\n", Some("label"), None),
            &["'label' not found", "'a', 'y', 'b'"],
        );
    }

    #[test]
    fn row_errors_name_line_and_column() {
        // Line numbers count the header as line 1.
        assert_error(
            csv("a,b,y\n1,2,0\n1,2\n"),
            &["line 3", "2 fields", "3 columns"],
        );
        assert_error(
            csv("a,b,y\n1,2,0\n1,x7,1\n"),
            &["line 3", "column 'b'", "'x7' is not a number"],
        );
        assert_error(
            csv("a,b,y\n1,NaN,0\n"),
            &["line 2", "column 'b'", "not a finite number"],
        );
        assert_error(
            csv("a,b,y\n1,2,0\ninf,2,1\n"),
            &["line 3", "column 'a'", "not a finite"],
        );
        assert_error(
            csv("a,b,y\n1,2,0\n1,1e39,1\n"),
            &["line 3", "column 'b'", "not a finite"],
        );
        assert_error(
            csv("a,b,y\n1,,0\n"),
            &["line 2", "column 'b'", "empty cell"],
        );
        assert_error(
            csv("a,b,y\n1,2,\n"),
            &["line 2", "column 'y'", "empty target"],
        );
        assert_error(
            csv("a,b,y\n1,2,nan\n"),
            &["line 2", "column 'y'", "not a finite"],
        );
        // A quoted field spanning lines shifts the numbering the way an editor shows it.
        assert_error(
            csv("a,b,y\n\"1\",2,\"x\ny\"\n1,q,0\n"),
            &["line 4", "column 'b'"],
        );
    }

    #[test]
    fn file_level_errors() {
        assert_error(csv(""), &["empty file"]);
        assert_error(csv("a,b,y\n"), &["no data rows"]);
        assert_error(
            csv("a,b,a\n1,2,3\n"),
            &["duplicate column name 'a'", "columns 1 and 3"],
        );
        assert_error(csv("y\n1\n"), &["only the column 'y'"]);
        assert_error(
            csv("a,,y\n1,2,3\n"),
            &["line 1", "column 2 has an empty name"],
        );
        assert_error(
            csv("\n\na,a\n1,2\n"),
            &["line 3", "duplicate column name 'a'"],
        );
        // Many short lines cross the 64-byte blocks of the line tracker.
        let mut long = String::from("a,y\r\n");
        for i in 0..300 {
            long.push_str(if i % 7 == 0 { "\r\n1,0\r\n" } else { "2,1\n" });
        }
        long.push_str("\n\nz,1\n");
        // The bad row's line number is the count of newlines before it, plus one.
        let bad_line = long.matches('\n').count();
        assert_error(csv(&long), &[&format!("line {bad_line}, column 'a'")]);
        // Blank lines and CRLF endings do not shift the reported line.
        assert_error(csv("a,y\n\n1,0\n\nx,1\n"), &["line 5", "column 'a'"]);
        assert_error(csv("a,y\r\n1,0\r\n\r\nq,1\r\n"), &["line 4", "column 'a'"]);
        let opts = CsvOptions {
            max_rows: 1,
            ..CsvOptions::default()
        };
        let e = parse_csv("a,y\n1,0\n2,1\n".as_bytes(), &opts).unwrap_err();
        assert!(matches!(e, FormatError::TooLarge(_)), "{e:?}");
        let opts = CsvOptions {
            max_features: 1,
            ..CsvOptions::default()
        };
        assert!(matches!(
            parse_csv("a,b,y\n1,2,0\n".as_bytes(), &opts),
            Err(FormatError::TooLarge(_))
        ));
    }

    #[test]
    fn bom_whitespace_and_quotes() {
        let d = csv("\u{feff}a , b,label\n\"1.5\", 2 ,cat\n3,4, dog\n").unwrap();
        assert_eq!(d.feature_names, ["a", "b"]);
        assert_eq!(d.x, ndarray::array![[1.5, 2.0], [3.0, 4.0]]);
        assert_eq!(d.classes, Some(vec!["cat".to_string(), "dog".to_string()]));
    }

    #[test]
    fn task_inference_both_ways() {
        // Whole numbers, 2 distinct values → classification.
        let d = csv("a,y\n1,1\n2,0\n3,1\n").unwrap();
        assert_eq!(d.task, Task::Classification);
        assert_eq!(d.y, [1.0, 0.0, 1.0]);
        // Non-integer values → regression, values kept.
        let d = csv("a,y\n1,0.5\n2,1.25\n3,1\n4,1\n").unwrap();
        assert_eq!((d.task, d.classes.clone()), (Task::Regression, None));
        assert_eq!(d.y, [0.5, 1.25, 1.0, 1.0]);
        // Whole numbers but one distinct value per row (3 distinct > 2, 2·3 > 3 rows).
        assert_eq!(
            csv("a,y\n1,10\n2,20\n3,30\n").unwrap().task,
            Task::Regression
        );
        // More than MAX_INFERRED_CLASSES distinct whole numbers → regression.
        let mut many = String::from("a,y\n");
        for i in 0..(2 * (MAX_INFERRED_CLASSES + 1)) {
            many.push_str(&format!("{i},{}\n", i / 2));
        }
        assert_eq!(csv(&many).unwrap().task, Task::Regression);
        assert_eq!(
            infer_task(&[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]),
            Task::Classification
        );
        assert_eq!(infer_task(&[0.0, 1.5]), Task::Regression);
    }

    #[test]
    fn class_labels_sorted_and_rendered() {
        // Numeric labels sort numerically (10 after 9) and render as integers.
        let d = csv_with(
            "a,y\n1,10\n2,9\n3,-1\n4,9.0\n",
            None,
            Some(Task::Classification),
        )
        .unwrap();
        assert_eq!(d.classes, Some(vec!["-1".into(), "9".into(), "10".into()]));
        assert_eq!(d.y, [2.0, 1.0, 0.0, 1.0]);
        // Explicit classification with float-looking labels: "1.0" → "1".
        let d = csv_with(
            "a,y\n1,1.0\n2,0.0\n3,-0.0\n",
            None,
            Some(Task::Classification),
        )
        .unwrap();
        assert_eq!(d.classes, Some(vec!["0".into(), "1".into()]));
        assert_eq!(d.y, [1.0, 0.0, 0.0]);
        // Text labels sort lexicographically.
        let d = csv("a,y\n1,b\n2,a\n3,B\n4,a\n").unwrap();
        assert_eq!(d.classes, Some(vec!["B".into(), "a".into(), "b".into()]));
        assert_eq!(d.y, [2.0, 1.0, 0.0, 1.0]);
        assert_error(
            csv_with("a,y\n1,0.5\n2,1\n", None, Some(Task::Classification)),
            &["line 2", "column 'y'", "whole-number"],
        );
    }

    #[test]
    fn regression_with_text_targets_is_refused() {
        assert_error(
            csv_with("a,y\n1,2.5\n2,high\n", None, Some(Task::Regression)),
            &[
                "line 3",
                "column 'y'",
                "'high' is not a number",
                "regression",
            ],
        );
        let d = csv_with("a,y\n1,3\n2,4\n3,3\n4,4\n", None, Some(Task::Regression)).unwrap();
        assert_eq!(
            (d.task, d.y.clone()),
            (Task::Regression, vec![3.0, 4.0, 3.0, 4.0])
        );
    }

    /// An NPY v1.0 file written by hand: magic, version, header dict padded to 64 bytes.
    fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let shape_text = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let fortran = if fortran { "True" } else { "False" };
        let mut dict =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}");
        while (10 + dict.len() + 1) % 64 != 0 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn npy_round_trip_float32() {
        let rows = [
            [0.5f32, -1.0, 2.0],
            [1.5, 3.0, 0.0],
            [2.5, 4.0, 2.0],
            [0.0, 0.0, 0.0],
        ];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let d = parse_npy(
            &npy("<f4", false, &[4, 3], &f32_bytes(&flat)),
            &NpyOptions::default(),
        )
        .unwrap();
        assert_eq!(
            d.x,
            ndarray::array![[0.5, -1.0], [1.5, 3.0], [2.5, 4.0], [0.0, 0.0]]
        );
        assert_eq!(
            (d.feature_names.clone(), d.target.clone()),
            (vec!["f0".into(), "f1".into()], "f2".to_string())
        );
        assert_eq!(d.task, Task::Classification);
        assert_eq!(d.classes, Some(vec!["0".into(), "2".into()]));
        assert_eq!(d.y, [1.0, 0.0, 1.0, 0.0]);
        // Target chosen by index, task forced.
        let opts = NpyOptions {
            target_column: Some(0),
            task: Some(Task::Regression),
            ..NpyOptions::default()
        };
        let d = parse_npy(&npy("<f4", false, &[4, 3], &f32_bytes(&flat)), &opts).unwrap();
        assert_eq!(d.y, [0.5, 1.5, 2.5, 0.0]);
        assert_eq!(d.feature_names, ["f1", "f2"]);
    }

    #[test]
    fn npy_other_dtypes_and_fortran_order() {
        // float64 big-endian, Fortran order: column-major data for [[1, 2], [3, 4], [5, 6]].
        let col_major = [1.0f64, 3.0, 5.0, 2.0, 4.0, 6.0];
        let data: Vec<u8> = col_major.iter().flat_map(|x| x.to_be_bytes()).collect();
        let opts = NpyOptions {
            task: Some(Task::Regression),
            ..NpyOptions::default()
        };
        let d = parse_npy(&npy(">f8", true, &[3, 2], &data), &opts).unwrap();
        assert_eq!(d.x, ndarray::array![[1.0], [3.0], [5.0]]);
        assert_eq!(d.y, [2.0, 4.0, 6.0]);
        let ints: Vec<u8> = [7i64, 0, 8, 1, 9, 0, 10, 1]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let d = parse_npy(&npy("<i8", false, &[4, 2], &ints), &NpyOptions::default()).unwrap();
        assert_eq!(d.x.column(0).to_vec(), [7.0, 8.0, 9.0, 10.0]);
        assert_eq!(d.classes, Some(vec!["0".into(), "1".into()]));
        let bytes: Vec<u8> = vec![1, 0, 2, 1, 3, 0, 4, 1];
        let d = parse_npy(&npy("|u1", false, &[4, 2], &bytes), &NpyOptions::default()).unwrap();
        assert_eq!(d.n_rows(), 4);
    }

    #[test]
    fn npy_errors() {
        let opts = NpyOptions::default();
        let e = parse_npy(&npy("<f4", false, &[6], &f32_bytes(&[0.0; 6])), &opts).unwrap_err();
        assert!(e.to_string().contains("2-D"), "{e}");
        let e = parse_npy(&npy("<f4", false, &[2, 3], &f32_bytes(&[0.0; 5])), &opts).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = parse_npy(&npy("<c8", false, &[1, 2], &[0; 16]), &opts).unwrap_err();
        assert!(matches!(e, FormatError::Unsupported(_)), "{e:?}");
        let e = parse_npy(b"PK\x03\x04 not npy", &opts).unwrap_err();
        assert!(e.to_string().contains("not an NPY file"), "{e}");
        let mut v = [1.0f32, 0.0, 2.0, 1.0];
        v[2] = f32::NAN;
        let e = parse_npy(&npy("<f4", false, &[2, 2], &f32_bytes(&v)), &opts).unwrap_err();
        assert!(e.to_string().contains("row 1, column 0"), "{e}");
        // A hostile shape is refused before any allocation.
        let e = parse_npy(&npy("<f8", false, &[1 << 40, 1 << 20], &[0; 8]), &opts).unwrap_err();
        assert!(e.to_string().contains("needs"), "{e}");
        let bad = NpyOptions {
            target_column: Some(5),
            ..NpyOptions::default()
        };
        let e = parse_npy(&npy("<f4", false, &[1, 2], &f32_bytes(&[1.0, 0.0])), &bad).unwrap_err();
        assert!(
            e.to_string().contains("target column 5 does not exist"),
            "{e}"
        );
        let e = parse_npy(&npy("<f4", false, &[0, 2], &[]), &opts).unwrap_err();
        assert!(e.to_string().contains("no rows"), "{e}");
    }

    #[test]
    fn task_serde_names() {
        assert_eq!(
            serde_json::to_string(&Task::Classification).unwrap(),
            "\"classification\""
        );
        assert_eq!(
            serde_json::from_str::<Task>("\"regression\"").unwrap(),
            Task::Regression
        );
        assert_eq!(Task::Regression.as_str(), "regression");
    }
}
