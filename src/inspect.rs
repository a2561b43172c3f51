//! Seeing what the gradients and activations do: norms per parameter and
//! per layer, statistics of saved activations, and a connectivity report
//! that finds parameters the loss no longer reaches.
//!
//! The last one catches a bug residual networks hide well: when a branch is
//! accidentally cut off (a detached tensor, a forgotten call, a dead ReLU
//! layer), the skip path still carries the signal, the loss still falls, and
//! nothing looks wrong — except that the branch's parameters get no gradient.

use crate::nn::{Ctx, ParamGrads, Params};
use std::fmt;

/// The gradient norm of every parameter that has a gradient, in
/// registration order: `(name, ‖g‖)`.
pub fn grad_norms(params: &Params, grads: &ParamGrads) -> Vec<(String, f32)> {
    params
        .iter()
        .filter_map(|(id, p)| grads.get(id).map(|g| (p.name.clone(), g.norm())))
        .collect()
}

/// The layer a parameter belongs to: its name up to and including the first
/// numeric component (`layers.3.linear1.weight` → `layers.3`), or without
/// its last component if there is none (`norm.weight` → `norm`).
pub fn layer_of(name: &str) -> &str {
    let mut end = 0;
    for (i, part) in name.split('.').enumerate() {
        end += part.len() + usize::from(i > 0);
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            return &name[..end];
        }
    }
    name.rsplit_once('.').map_or(name, |(layer, _)| layer)
}

/// Gradient norms per layer ([`layer_of`]), the norm of all the layer's
/// gradients together, in the order layers first appear.
pub fn layer_grad_norms(params: &Params, grads: &ParamGrads) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (id, p) in params.iter() {
        let Some(g) = grads.get(id) else { continue };
        let sq: f64 = g.data().iter().map(|&v| v as f64 * v as f64).sum();
        let layer = layer_of(&p.name);
        match out.iter_mut().find(|(l, _)| l == layer) {
            Some((_, s)) => *s += sq,
            None => out.push((layer.to_string(), sq)),
        }
    }
    out.into_iter().map(|(l, s)| (l, s.sqrt() as f32)).collect()
}

/// Summary statistics of one tensor's values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Mean.
    pub mean: f32,
    /// Standard deviation (population).
    pub std: f32,
    /// Root mean square, the typical size of an entry.
    pub rms: f32,
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
    /// Fraction of entries exactly zero (dead ReLUs, dropped units).
    pub zero_fraction: f32,
}

impl Stats {
    /// Statistics of a slice (accumulated in f64).
    pub fn of(values: &[f32]) -> Stats {
        let n = values.len().max(1) as f64;
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let ms = values.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n;
        Stats {
            mean: mean as f32,
            std: var.sqrt() as f32,
            rms: ms.sqrt() as f32,
            min: values.iter().copied().fold(f32::INFINITY, f32::min),
            max: values.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            zero_fraction: (values.iter().filter(|&&v| v == 0.0).count() as f64 / n)
                as f32,
        }
    }
}

/// Statistics of every value kept with [`Ctx::save_activation`], in order.
pub fn activation_stats(ctx: &Ctx<'_>) -> Vec<(String, Stats)> {
    ctx.saved_activations()
        .into_iter()
        .map(|(name, v)| (name, Stats::of(v.value().data())))
        .collect()
}

/// Which parameters the loss did not reach: those with no gradient at all,
/// and those whose gradient is exactly zero everywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connectivity {
    /// Parameters with no gradient: not on any path to the loss.
    pub missing: Vec<String>,
    /// Parameters whose gradient is identically zero (on a path, but
    /// blocked: dead ReLUs, a zero gate, a zeroed downstream weight).
    pub zero: Vec<String>,
}

impl Connectivity {
    /// Checks every parameter of `params` against `grads`.
    pub fn check(params: &Params, grads: &ParamGrads) -> Connectivity {
        let mut report = Connectivity::default();
        for (id, p) in params.iter() {
            match grads.get(id) {
                None => report.missing.push(p.name.clone()),
                Some(g) if g.data().iter().all(|&v| v == 0.0) => {
                    report.zero.push(p.name.clone())
                }
                Some(_) => {}
            }
        }
        report
    }

    /// True if every parameter received a nonzero gradient.
    pub fn is_connected(&self) -> bool {
        self.missing.is_empty() && self.zero.is_empty()
    }
}

impl fmt::Display for Connectivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_connected() {
            return write!(f, "every parameter received a nonzero gradient");
        }
        if !self.missing.is_empty() {
            writeln!(
                f,
                "no gradient (not on any path to the loss): {}",
                self.missing.join(", ")
            )?;
        }
        if !self.zero.is_empty() {
            writeln!(
                f,
                "gradient exactly zero (path blocked): {}",
                self.zero.join(", ")
            )?;
        }
        write!(
            f,
            "a residual network keeps training with a branch cut off, because the skip path still \
             carries the signal: check how these parameters are wired into the forward pass"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::layer_of;

    #[test]
    fn layers_are_named_by_their_first_numeric_component() {
        assert_eq!(layer_of("layers.3.linear1.weight"), "layers.3");
        assert_eq!(layer_of("blocks.12.attn.in_proj_weight"), "blocks.12");
        assert_eq!(layer_of("norm.weight"), "norm");
        assert_eq!(layer_of("weight"), "weight");
    }
}
