//! Progress bars on standard error, for a person watching a terminal.

use crate::measure::sampler::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Whether to draw progress bars: only for a person watching a terminal.
pub fn show_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

pub fn spinner(visible: bool, message: &'static str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub fn sampling_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:.bold} [{bar:30}] {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Shows the phase, the current median and its interval width; the bar fills with the time
/// budget.
pub fn update_bar(bar: &ProgressBar, label: &str, p: Progress) {
    bar.set_prefix(label.to_string());
    match p {
        Progress::Warmup {
            elapsed_s,
            planned_s,
        } => {
            bar.set_position((1000.0 * (elapsed_s / planned_s.max(1e-9)).min(1.0)) as u64);
            bar.set_message(format!("warming up {elapsed_s:.1}/{planned_s:.1} s"));
        }
        Progress::Sampling {
            samples,
            elapsed_s,
            budget_s,
            median_s,
            rel_half_width,
        } => {
            bar.set_position((1000.0 * (elapsed_s / budget_s.max(1e-9)).min(1.0)) as u64);
            let ci = if rel_half_width.is_finite() {
                format!("±{:.2}%", rel_half_width * 100.0)
            } else {
                "±?".to_string()
            };
            bar.set_message(format!(
                "{samples} samples, median {median_s:.4} s {ci}, {elapsed_s:.0}/{budget_s:.0} s"
            ));
        }
    }
}
