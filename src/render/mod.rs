//! Everything that turns results into text or pictures: terminal summaries and tables, the
//! exports (one per format behind `export::Exporter`: table, Markdown, JSON, BMF,
//! github-action-benchmark, CSV, HTML), and the SVG charts. Renderers only read; they never
//! compute a figure the model or the statistics own. Numbers are formatted by `crate::units`,
//! tables get their look from [`table`], and the cost table is built once as [`cost_rows`].
//! Text from files and arguments is placed in each kind of output by [`escape`]'s rule for it
//! (terminal, Markdown, CSV, XML).

pub mod ab;
pub mod catalog;
pub mod chart;
pub mod cost_rows;
pub mod documents;
pub mod escape;
pub mod export;
pub mod history;
pub mod summary;
pub mod table;
pub mod verdict;
