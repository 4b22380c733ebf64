//! The product sweep: each shape of a `gemm` workload run on buffers allocated once.

use crate::kernels::Tally;
use crate::kernels::gemm::{Element, Threads, product_bytes, product_into};
use crate::ops::{OpClass, flops};
use crate::workload::plan::gemm_label;
use crate::workload::{Dtype, GemmShape, GemmSweep};
use ndarray::{Array3, Axis};
use rayon::prelude::*;
use std::time::Instant;

/// Operands of one shape in one precision.
enum Operands {
    F32(Array3<f32>, Array3<f32>, Array3<f32>),
    F64(Array3<f64>, Array3<f64>, Array3<f64>),
}

/// One (shape, precision) of the sweep, ready to run.
pub struct SweepCase {
    pub shape: GemmShape,
    pub dtype: Dtype,
    pub label: String,
    operands: Operands,
}

impl SweepCase {
    /// FLOPs of one run of this case (all its batch).
    pub fn flops(&self) -> u64 {
        self.shape.batch as u64 * flops::product(self.shape.m, self.shape.n, self.shape.k)
    }

    /// Runs the case once, charges it to the tally, and returns its wall time in seconds.
    pub fn run(&mut self, tally: &mut Tally) -> f64 {
        let s = &self.shape;
        let bytes = s.batch as u64 * product_bytes(s.m, s.n, s.k, self.dtype.bytes());
        let flops = self.flops();
        let start = Instant::now();
        match &mut self.operands {
            Operands::F32(a, b, c) => {
                tally.record(OpClass::Matmul, flops, bytes, || batched(a, b, c))
            }
            Operands::F64(a, b, c) => {
                tally.record(OpClass::Matmul, flops, bytes, || batched(a, b, c))
            }
        }
        start.elapsed().as_secs_f64()
    }
}

/// A batch of one runs on all cores; a batch of many small products runs one product per
/// core, which is faster here than splitting each small product (`docs/gemm-choice.md`).
fn batched<T: Element>(a: &Array3<T>, b: &Array3<T>, c: &mut Array3<T>) {
    if c.len_of(Axis(0)) == 1 {
        product_into(
            a.index_axis(Axis(0), 0),
            b.index_axis(Axis(0), 0),
            c.index_axis_mut(Axis(0), 0),
            false,
            Threads::Auto,
        );
    } else {
        c.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(
                a.axis_iter(Axis(0))
                    .into_par_iter()
                    .zip(b.axis_iter(Axis(0)).into_par_iter()),
            )
            .for_each(|(c, (a, b))| product_into(a, b, c, false, Threads::Single));
    }
}

/// Every case of a sweep, operands allocated and filled.
pub struct GemmRunner {
    pub cases: Vec<SweepCase>,
}

impl GemmRunner {
    pub fn new(sweep: &GemmSweep) -> Self {
        let mut cases = Vec::new();
        for &dtype in &sweep.dtypes {
            for shape in &sweep.shapes {
                let (m, n, k, bt) = (shape.m, shape.n, shape.k, shape.batch);
                // Deterministic, non-trivial values in [-1, 1).
                let fill = |rows: usize, cols: usize, salt: usize| {
                    Array3::from_shape_fn((bt, rows, cols), move |(z, i, j)| {
                        ((z * 31 + i * 17 + j * 7 + salt) % 23) as f64 / 11.5 - 1.0
                    })
                };
                let operands = match dtype {
                    Dtype::F32 => Operands::F32(
                        fill(m, k, 1).mapv(|v| v as f32),
                        fill(k, n, 5).mapv(|v| v as f32),
                        Array3::zeros((bt, m, n)),
                    ),
                    Dtype::F64 => {
                        Operands::F64(fill(m, k, 1), fill(k, n, 5), Array3::zeros((bt, m, n)))
                    }
                };
                cases.push(SweepCase {
                    label: format!("{} {}", gemm_label(shape), dtype.name()),
                    shape: shape.clone(),
                    dtype,
                    operands,
                });
            }
        }
        Self { cases }
    }
}
