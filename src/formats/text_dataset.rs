//! Text datasets: CSV with a header row, or JSON Lines (one object per line), holding a
//! `text` field, optionally a second text (`text_pair`, for sentence-pair tasks) and a
//! label. They are tokenized at job time with the model's own tokenizer.
//!
//! Labels are strings or whole numbers; classes are sorted numerically when every label is
//! a whole number, else by bytes (the rule of tabular datasets). Errors name the line (the
//! CSV header and the first JSON line are line 1) and the field.
use std::io::Read;

use serde_json::Value;

use super::dataset::MAX_CLASSES;
use super::FormatError;

/// How a text file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Csv,
    Jsonl,
}

impl TextFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TextFormat::Csv => "csv",
            TextFormat::Jsonl => "jsonl",
        }
    }
}

/// Which fields hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextOptions {
    /// The text column (default `text`).
    pub text: String,
    /// The second text of a pair (used when present; default `text_pair`).
    pub text_pair: String,
    /// The label column (used when present; default `label`).
    pub label: String,
    /// Whether the label column must exist (the user named it).
    pub label_required: bool,
    /// Refuse files with more examples than this.
    pub max_rows: usize,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            text: "text".into(),
            text_pair: "text_pair".into(),
            label: "label".into(),
            label_required: false,
            max_rows: 10_000_000,
        }
    }
}

/// A parsed text dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct TextDataset {
    pub texts: Vec<String>,
    pub pairs: Option<Vec<String>>,
    /// Class index per example, when the file has labels.
    pub labels: Option<Vec<usize>>,
    /// Class names in index order, when the file has labels.
    pub classes: Option<Vec<String>>,
    /// The field names used, in order (text, then text_pair when present).
    pub fields: Vec<String>,
    /// The label field, when present.
    pub label_field: Option<String>,
}

impl TextDataset {
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

fn at(line: usize, field: &str, message: impl Into<String>) -> FormatError {
    FormatError::At {
        location: format!("line {line}, {field}"),
        message: message.into(),
    }
}

/// Whether a CSV header names the text column (so the upload is a text dataset).
pub fn csv_has_text_column(prefix: &[u8], text: &str) -> bool {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(prefix);
    let mut rec = csv::StringRecord::new();
    matches!(r.read_record(&mut rec), Ok(true)) && rec.iter().any(|c| c.trim() == text)
}

struct Builder<'a> {
    opts: &'a TextOptions,
    texts: Vec<String>,
    pairs: Vec<String>,
    labels: Vec<String>,
    has_pair: bool,
    has_label: bool,
}

impl Builder<'_> {
    fn push(
        &mut self,
        line: usize,
        text: String,
        pair: Option<String>,
        label: Option<String>,
    ) -> Result<(), FormatError> {
        if self.texts.len() >= self.opts.max_rows {
            return Err(FormatError::TooLarge(format!(
                "more than {} examples",
                self.opts.max_rows
            )));
        }
        if text.contains('\0') {
            return Err(at(line, &self.opts.text, "contains U+0000"));
        }
        self.texts.push(text);
        if self.has_pair {
            let p = pair.ok_or_else(|| at(line, &self.opts.text_pair, "is missing"))?;
            if p.contains('\0') {
                return Err(at(line, &self.opts.text_pair, "contains U+0000"));
            }
            self.pairs.push(p);
        }
        if self.has_label {
            let l = label.ok_or_else(|| at(line, &self.opts.label, "is missing"))?;
            if l.is_empty() {
                return Err(at(line, &self.opts.label, "is empty"));
            }
            if l.contains('\0') {
                return Err(at(line, &self.opts.label, "contains U+0000"));
            }
            self.labels.push(l);
        }
        Ok(())
    }

    fn finish(self) -> Result<TextDataset, FormatError> {
        if self.texts.is_empty() {
            return Err(FormatError::Invalid("the file has no examples".into()));
        }
        let (labels, classes) = if self.has_label {
            let (l, c) = classes_of(&self.labels)?;
            (Some(l), Some(c))
        } else {
            (None, None)
        };
        let mut fields = vec![self.opts.text.clone()];
        if self.has_pair {
            fields.push(self.opts.text_pair.clone());
        }
        Ok(TextDataset {
            texts: self.texts,
            pairs: self.has_pair.then_some(self.pairs),
            labels,
            classes,
            fields,
            label_field: self.has_label.then(|| self.opts.label.clone()),
        })
    }
}

fn classes_of(labels: &[String]) -> Result<(Vec<usize>, Vec<String>), FormatError> {
    let mut distinct: Vec<&String> = labels.iter().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() > MAX_CLASSES {
        return Err(FormatError::Invalid(format!(
            "{} distinct labels, more than the limit of {MAX_CLASSES} classes",
            distinct.len()
        )));
    }
    let numeric: Option<Vec<i64>> = distinct.iter().map(|l| l.parse::<i64>().ok()).collect();
    let classes: Vec<String> = match numeric {
        Some(mut n) => {
            n.sort_unstable();
            n.dedup();
            n.iter().map(i64::to_string).collect()
        }
        None => distinct.into_iter().cloned().collect(),
    };
    let index: std::collections::HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let ids = labels
        .iter()
        .map(|l| {
            let key = l
                .parse::<i64>()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| l.clone());
            index[key.as_str()]
        })
        .collect();
    Ok((ids, classes))
}

/// Parses a text dataset.
pub fn parse_text<R: Read>(
    reader: R,
    format: TextFormat,
    opts: &TextOptions,
) -> Result<TextDataset, FormatError> {
    match format {
        TextFormat::Csv => parse_csv(reader, opts),
        TextFormat::Jsonl => parse_jsonl(reader, opts),
    }
}

fn parse_csv<R: Read>(reader: R, opts: &TextOptions) -> Result<TextDataset, FormatError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let header = r
        .headers()
        .map_err(|e| FormatError::Invalid(format!("line 1: {e}")))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let text_col = col(&opts.text).ok_or_else(|| FormatError::At {
        location: "line 1".into(),
        message: format!(
            "no {:?} column (columns: {})",
            opts.text,
            header.iter().collect::<Vec<_>>().join(", ")
        ),
    })?;
    let pair_col = col(&opts.text_pair);
    let label_col = col(&opts.label);
    if opts.label_required && label_col.is_none() {
        return Err(FormatError::At {
            location: "line 1".into(),
            message: format!("no {:?} column", opts.label),
        });
    }
    let mut b = Builder {
        opts,
        texts: Vec::new(),
        pairs: Vec::new(),
        labels: Vec::new(),
        has_pair: pair_col.is_some(),
        has_label: label_col.is_some(),
    };
    let mut rec = csv::StringRecord::new();
    loop {
        let more = r.read_record(&mut rec).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            FormatError::Invalid(format!("line {line}: {e}"))
        })?;
        if !more {
            break;
        }
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::to_string);
        b.push(
            line,
            get(Some(text_col)).unwrap_or_default(),
            get(pair_col),
            get(label_col).map(|l| l.trim().to_string()),
        )?;
    }
    b.finish()
}

fn parse_jsonl<R: Read>(reader: R, opts: &TextOptions) -> Result<TextDataset, FormatError> {
    use std::io::BufRead;
    let mut b: Option<Builder> = None;
    let mut reader = std::io::BufReader::new(reader);
    let mut buf = String::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_line(&mut buf)
            .map_err(|e| FormatError::Invalid(format!("line {}: {e}", line + 1)))?;
        if n == 0 {
            break;
        }
        line += 1;
        if buf.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(buf.trim()).map_err(|e| FormatError::At {
            location: format!("line {line}"),
            message: format!("not a JSON object: {e}"),
        })?;
        let obj = v.as_object().ok_or_else(|| FormatError::At {
            location: format!("line {line}"),
            message: "not a JSON object".into(),
        })?;
        let builder = b.get_or_insert_with(|| Builder {
            opts,
            texts: Vec::new(),
            pairs: Vec::new(),
            labels: Vec::new(),
            has_pair: obj.contains_key(&opts.text_pair),
            has_label: obj.contains_key(&opts.label) || opts.label_required,
        });
        let text = match obj.get(&opts.text) {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(at(line, &opts.text, "must be a string")),
            None => return Err(at(line, &opts.text, "is missing")),
        };
        let pair = match obj.get(&opts.text_pair) {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => None,
            Some(_) => return Err(at(line, &opts.text_pair, "must be a string")),
        };
        let label = match obj.get(&opts.label) {
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(Value::Number(n)) if n.as_i64().is_some() => Some(n.to_string()),
            Some(Value::Bool(x)) => Some(x.to_string()),
            None | Some(Value::Null) => None,
            Some(_) => return Err(at(line, &opts.label, "must be a string or a whole number")),
        };
        builder.push(line, text, pair, label)?;
    }
    b.ok_or_else(|| FormatError::Invalid("the file has no examples".into()))?
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_pairs_and_labels() {
        let csv = "id,text,text_pair,label\n1,\"a, b\",c,pos\n2,d,e,neg\n3,f,g,pos\n";
        let d = parse_text(csv.as_bytes(), TextFormat::Csv, &TextOptions::default()).unwrap();
        assert_eq!(d.texts, vec!["a, b", "d", "f"]);
        assert_eq!(d.pairs.unwrap(), vec!["c", "e", "g"]);
        assert_eq!(d.classes.unwrap(), vec!["neg", "pos"]);
        assert_eq!(d.labels.unwrap(), vec![1, 0, 1]);
        assert!(csv_has_text_column(csv.as_bytes(), "text"));
        assert!(!csv_has_text_column(b"a,b,label\n1,2,3\n", "text"));
    }

    #[test]
    fn jsonl_labels_sort_numerically() {
        let j = "{\"text\":\"x\",\"label\":10}\n\n{\"text\":\"y\",\"label\":9}\n{\"text\":\"z\",\"label\":\"10\"}\n";
        let d = parse_text(j.as_bytes(), TextFormat::Jsonl, &TextOptions::default()).unwrap();
        assert_eq!(d.classes.unwrap(), vec!["9", "10"]);
        assert_eq!(d.labels.unwrap(), vec![1, 0, 1]);
        assert!(d.pairs.is_none());
    }

    #[test]
    fn errors_name_line_and_field() {
        let cases: &[(&str, TextFormat, &str)] = &[
            ("{\"text\":1}\n", TextFormat::Jsonl, "line 1, text"),
            (
                "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\"}\n",
                TextFormat::Jsonl,
                "line 2, label",
            ),
            (
                "{\"text\":\"a\\u0000\"}\n",
                TextFormat::Jsonl,
                "line 1, text",
            ),
            ("[1]\n", TextFormat::Jsonl, "line 1"),
            ("a,b\n1,2\n", TextFormat::Csv, "line 1"),
            ("text,label\nx,\n", TextFormat::Csv, "line 2, label"),
        ];
        for (input, format, want) in cases {
            match parse_text(input.as_bytes(), *format, &TextOptions::default()) {
                Err(FormatError::At { location, .. }) => assert_eq!(&location, want, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
        assert!(parse_text("".as_bytes(), TextFormat::Jsonl, &TextOptions::default()).is_err());
    }
}
