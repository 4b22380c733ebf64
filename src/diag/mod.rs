//! Diagnostics and file safety shared by every reader and writer: TOML diagnostics for the
//! workload and catalog parsers (positions, one-line messages, suggestions), and the one atomic
//! file writer.

pub mod toml_diag;
pub mod write;
