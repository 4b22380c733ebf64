//! Diagnostics and file safety shared by every reader and writer: TOML diagnostics for the
//! workload and catalog parsers (positions, one-line messages, serde's refusals with their field
//! paths, number readers, "did you mean" suggestions), showing untrusted text safely (`show`),
//! the one bounded file reader (`read`) and the one atomic file writer.

mod de;
mod numbers;
pub mod read;
pub mod show;
pub(crate) mod suggest;
pub mod toml_diag;
pub mod write;
