//! Which tensors of a model a job touches: include/exclude name globs, and 1-D tensors
//! (biases, norms) skipped unless asked for.
use globset::{Glob, GlobSet, GlobSetBuilder};

use super::ValidationErrors;

/// A compiled tensor filter.
#[derive(Debug, Clone)]
pub struct TensorSelection {
    include: Option<GlobSet>,
    exclude: GlobSet,
    skip_1d: bool,
}

impl TensorSelection {
    /// Compile globs; `field` prefixes error paths (e.g. `include`).
    pub fn new(
        include: &[String],
        exclude: &[String],
        skip_1d: bool,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let inc = build(include, "include", &mut errors);
        let exc = build(exclude, "exclude", &mut errors);
        errors.into_result()?;
        Ok(Self {
            include: if include.is_empty() { None } else { inc },
            exclude: exc.unwrap_or_else(GlobSet::empty),
            skip_1d,
        })
    }

    /// Every tensor, 1-D included.
    pub fn all() -> Self {
        Self {
            include: None,
            exclude: GlobSet::empty(),
            skip_1d: false,
        }
    }

    /// Whether the tensor `name` with `shape` is selected.
    pub fn matches(&self, name: &str, shape: &[usize]) -> bool {
        if self.skip_1d && shape.len() < 2 {
            return false;
        }
        if self.exclude.is_match(name) {
            return false;
        }
        self.include.as_ref().is_none_or(|g| g.is_match(name))
    }
}

fn build(globs: &[String], field: &str, errors: &mut ValidationErrors) -> Option<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for (i, g) in globs.iter().enumerate() {
        match Glob::new(g) {
            Ok(glob) => {
                b.add(glob);
            }
            Err(e) => errors.add(format!("{field}[{i}]"), format!("invalid glob: {e}")),
        }
    }
    b.build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_exclude_and_1d() {
        let s = TensorSelection::new(&["layers.*".into()], &["*.2.*".into()], true).unwrap();
        assert!(s.matches("layers.0.weight", &[4, 4]));
        assert!(!s.matches("layers.0.bias", &[4]));
        assert!(!s.matches("layers.2.weight", &[4, 4]));
        assert!(!s.matches("embed.weight", &[4, 4]));
        assert!(TensorSelection::all().matches("x", &[3]));
    }

    #[test]
    fn bad_glob_names_the_field() {
        let e = TensorSelection::new(&[], &["ok".into(), "[".into()], false).unwrap_err();
        assert_eq!(e.0[0].field, "exclude[1]");
    }
}
