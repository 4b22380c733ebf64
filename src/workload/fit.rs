//! Whether a workload's measured slice fits this machine: asked where a run is planned (`run`,
//! `check`), never while parsing, and never by `estimate`, which runs nothing.

use crate::workload::plan::{self, Big};
use crate::workload::spec::{Workload, WorkloadKind};

const GIB: f64 = (1u64 << 30) as f64;

/// This machine's available memory in bytes (sysinfo's `available_memory`, capped by a cgroup
/// memory limit when there is one), or `u64::MAX` when it cannot be read, which skips the check.
pub fn available_memory_bytes() -> u64 {
    let Ok(mut sys) = sysinfo::System::new() else {
        return u64::MAX;
    };
    sys.refresh_memory();
    let mut available = sys.available_memory();
    if available == 0 {
        return u64::MAX;
    }
    if let Some(limits) = sys.cgroup_limits()
        && limits.total_memory > 0
    {
        available = available.min(limits.total_memory);
    }
    available
}

/// What does not fit: the measured slice, or one product of a sweep (its index in
/// [`crate::workload::GemmSweep::shapes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfit {
    Slice,
    Product(usize),
}

/// A measured slice (or product) that needs more memory than is available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DoesNotFit {
    pub what: Unfit,
    /// `the measured slice needs about 70 GiB of memory but this machine has 20 GiB
    /// available; reduce …`.
    pub message: String,
}

/// Checks that what `w` runs fits in `available_bytes` ([`plan::slice_memory_bytes`]; each
/// product of a sweep runs on its own, so each must fit, in each precision measured).
/// `u64::MAX` accepts every validated workload.
pub fn check_fits(w: &Workload, available_bytes: u64) -> Result<(), DoesNotFit> {
    let refuse = |what: Unfit, of: String, needed: Big| DoesNotFit {
        what,
        message: format!(
            "{of} needs {} GiB of memory but this machine has {} GiB available; {}",
            about_gib(needed),
            gib(available_bytes as f64),
            remedy(&w.kind)
        ),
    };
    let fits = |needed: Big| needed.to_u64().is_some_and(|n| n <= available_bytes);
    if let WorkloadKind::Gemm(sweep) = &w.kind {
        for (i, shape) in sweep.shapes.iter().enumerate() {
            for &d in &sweep.dtypes {
                let needed = plan::gemm_memory_bytes(shape, d);
                if !fits(needed) {
                    return Err(refuse(
                        Unfit::Product(i),
                        format!("the product {} in {}", plan::gemm_label(shape), d.name()),
                        needed,
                    ));
                }
            }
        }
        return Ok(());
    }
    let needed = plan::checked_slice_memory_bytes(w);
    if fits(needed) {
        return Ok(());
    }
    Err(refuse(Unfit::Slice, "the measured slice".into(), needed))
}

/// What to change when the measured slice (or a product) needs too much memory.
pub(super) fn remedy(kind: &WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Gemm(_) => "use smaller m, n, k or batch, or leave f64 out of measure.dtypes",
        WorkloadKind::Mlp(_) => "reduce measure.batch, measure.hidden_layers or measure.d_hidden",
        WorkloadKind::Transformer(_) => "reduce measure.layers, measure.batch or measure.seq_len",
    }
}

/// `about 12.5` (GiB), or `over …` for a figure beyond `u128`.
pub(super) fn about_gib(bytes: Big) -> String {
    match bytes.0 {
        Some(b) => format!("about {}", gib(b as f64)),
        None => format!("over {}", gib(u128::MAX as f64)),
    }
}

/// `bytes` in GiB, with as many digits as help.
fn gib(bytes: f64) -> String {
    let g = bytes / GIB;
    if g >= 1e6 {
        format!("{g:.1e}")
    } else if g >= 100.0 {
        format!("{g:.0}")
    } else if g >= 1.0 {
        format!("{g:.1}")
    } else {
        format!("{g:.2}")
    }
}
