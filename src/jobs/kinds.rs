//! The job-kind registry macro. `jobs::exec` invokes [`job_kinds!`] once with one line per
//! kind; from that list it generates the executor modules, the `JobKind` enum (wire names,
//! OpenAPI schema), and the dispatch of the runner and of admission, so that a kind is
//! declared in exactly one place.
use std::fmt;
use std::str::FromStr;

use super::exec::JobKind;

/// `Variant = "wire_name" => module::Executor,` per kind, each with its doc comment. The wire
/// name is the variant in snake_case (serde and the OpenAPI schema spell it that way; a unit
/// test checks `as_str` agrees).
macro_rules! job_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal => $module:ident :: $executor:ident, )+) => {
        $( pub mod $module; )+

        /// The kinds of work a user can submit.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum JobKind {
            $( $(#[$doc])* $variant, )+
        }

        impl JobKind {
            /// Every kind the API accepts, in registry order.
            pub const ALL: &'static [JobKind] = &[$(JobKind::$variant),+];

            /// The database / wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(JobKind::$variant => $name,)+
                }
            }

            /// This kind's executor, as the runner calls it.
            fn executor(self) -> std::sync::Arc<dyn Executor> {
                match self {
                    $(JobKind::$variant => typed($module::$executor),)+
                }
            }

            /// The kind's spec and result schemas (the API's typed job schemas).
            pub fn schemas(self) -> super::exec::KindSchemas {
                match self {
                    $(JobKind::$variant => super::exec::schemas_of(&$module::$executor, $name, true),)+
                }
            }

            /// Parse, check and normalize a submission of this kind (`jobs::admission`).
            pub(crate) async fn admit(
                self,
                store: &crate::store::DynStore,
                tenant_id: uuid::Uuid,
                spec: &serde_json::Value,
            ) -> Result<serde_json::Value, crate::jobs::admission::AdmissionError> {
                match self {
                    $(JobKind::$variant => {
                        crate::jobs::admission::admit_as(&$module::$executor, self, store, tenant_id, spec)
                            .await
                    })+
                }
            }
        }
    };
}
pub(crate) use job_kinds;

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown job kind '{s}' (expected one of {})",
                    all.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for &k in JobKind::ALL {
            assert_eq!(k.as_str().parse::<JobKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
        }
        assert!("sleep".parse::<JobKind>().unwrap_err().contains("analyze"));
    }
}
