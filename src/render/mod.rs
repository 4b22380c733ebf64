//! Everything that turns results into text or pictures: terminal summaries and tables, the
//! exports (Markdown, JSON, CSV, BMF, github-action-benchmark), the HTML page and its SVG
//! charts. Renderers only read; they never compute a figure the model or the statistics own.

pub mod catalog;
pub mod chart;
pub mod export;
pub mod history;
pub mod html;
pub mod summary;
pub mod table;
