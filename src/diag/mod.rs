//! Diagnostics and file safety shared by every reader and writer: TOML diagnostics for the
//! workload and catalog parsers (positions, one-line messages, suggestions).

mod suggest;
pub mod toml_diag;
