//! Optimisers and schedules, with PyTorch's update rules and defaults.
//!
//! An optimiser walks the [`Params`] store and updates each value in place
//! from its gradient in a [`ParamGrads`]. Parameters without a gradient
//! (they did not reach the loss) are left alone, state and all, as in PyTorch.
//!
//! Hyperparameters are `f64`, as PyTorch's are Python floats: the scalar
//! coefficients of each step (bias corrections, `1 − ηλ`) are computed in
//! double precision and rounded once to `f32`, and only the per-element
//! arithmetic runs in `f32`, in the same order as PyTorch's CPU kernels.

use crate::nn::{ParamGrads, Params};
use crate::tensor::Tensor;
use std::sync::Arc;

/// Something that updates parameters from their gradients.
pub trait Optimizer {
    /// One update of every parameter that has a gradient.
    fn step(&mut self, params: &mut Params, grads: &ParamGrads);
    /// The current learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate (schedules call this before each step).
    fn set_lr(&mut self, lr: f64);
    /// Forgets all state (momentum, moments, step counts), so the optimiser
    /// can start over, on this store or another.
    fn reset(&mut self);
}

/// The checks every optimiser makes before a step: the gradients belong to
/// `params`, the optimiser's state belongs to `params` too, and every
/// gradient has its parameter's shape. Returns the store id to remember.
#[track_caller]
fn check_step(
    who: &str,
    state_store: Option<u64>,
    params: &Params,
    grads: &ParamGrads,
) -> u64 {
    grads.check_store(params, who);
    let store = params.store_id();
    if state_store.is_some_and(|s| s != store) {
        panic!(
            "{who}: this optimiser holds state for a different Params store\n  \
             make a new optimiser for each model, or call reset() before switching"
        );
    }
    for (id, g) in grads.iter() {
        let p = params.get(id);
        if g.shape() != p.shape() {
            panic!(
                "{who}: the gradient of `{}` has shape {} but the parameter has shape {}",
                params.name(id),
                g.shape(),
                p.shape()
            );
        }
    }
    store
}

// ANCHOR: sgd
/// Stochastic gradient descent, PyTorch's `torch.optim.SGD`:
///
/// ```text
/// g ← g + λ p                                  (weight decay λ, coupled)
/// b ← g on the first step, else μ b + (1 − τ) g   (momentum μ, dampening τ)
/// g ← g + μ b if nesterov, else b
/// p ← p − η g
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    /// Learning rate η.
    pub lr: f64,
    /// Momentum μ (default 0: plain SGD).
    pub momentum: f64,
    /// Dampening τ of the momentum (default 0).
    pub dampening: f64,
    /// L2 weight decay λ, added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false).
    pub nesterov: bool,
    buffers: Vec<Option<Tensor>>,
    store: Option<u64>,
}

impl Sgd {
    /// `SGD(params, lr)` with every other setting at PyTorch's default.
    pub fn new(lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            buffers: Vec::new(),
            store: None,
        }
    }

    /// Sets the momentum.
    pub fn momentum(mut self, momentum: f64) -> Sgd {
        self.momentum = momentum;
        self
    }

    /// Sets the weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the dampening.
    pub fn dampening(mut self, dampening: f64) -> Sgd {
        self.dampening = dampening;
        self
    }

    /// Switches Nesterov momentum on or off.
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }
}

impl Optimizer for Sgd {
    // ANCHOR: sgd_step
    #[track_caller]
    fn step(&mut self, params: &mut Params, grads: &ParamGrads) {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            panic!(
                "Sgd: Nesterov momentum needs momentum > 0 and dampening 0, \
                 got momentum {} and dampening {}\n  set .momentum(m) with m > 0 \
                 and leave dampening at 0, as PyTorch requires",
                self.momentum, self.dampening
            );
        }
        self.store = Some(check_step("Sgd::step", self.store, params, grads));
        self.buffers.resize(params.len(), None);
        let (lr, mu, wd) =
            (self.lr as f32, self.momentum as f32, self.weight_decay as f32);
        let keep = (1.0 - self.dampening) as f32;
        for (id, p) in params.iter_mut() {
            let Some(g) = grads.get(id) else { continue };
            // copies only if a tape still holds it
            let p = Arc::make_mut(&mut p.value).data_mut();
            let mut d: Vec<f32> =
                g.data().iter().zip(p.iter()).map(|(&g, &p)| g + wd * p).collect();
            if self.momentum != 0.0 {
                let buf = match &mut self.buffers[id.index()] {
                    Some(b) => {
                        for (b, &d) in b.data_mut().iter_mut().zip(&d) {
                            *b = mu * *b + keep * d;
                        }
                        b
                    }
                    slot @ None => slot.insert(Tensor::from_vec(d.clone(), g.shape())),
                };
                if self.nesterov {
                    d.iter_mut().zip(buf.data()).for_each(|(d, &b)| *d += mu * b);
                } else {
                    d.copy_from_slice(buf.data());
                }
            }
            p.iter_mut().zip(&d).for_each(|(p, &d)| *p -= lr * d);
        }
    }
    // ANCHOR_END: sgd_step

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.buffers.clear();
        self.store = None;
    }
}
// ANCHOR_END: sgd

// ANCHOR: adamw
/// Adam with decoupled weight decay, PyTorch's `torch.optim.AdamW`:
///
/// ```text
/// p ← p (1 − η λ)                              (decay, decoupled from the gradient)
/// m ← m + (1 − β₁)(g − m),   v ← β₂ v + (1 − β₂) g²
/// p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Defaults: η = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 1e-2. The step count
/// t is kept per parameter, as PyTorch does.
#[derive(Clone, Debug)]
pub struct AdamW {
    /// Learning rate η.
    pub lr: f64,
    /// β₁, the decay of the first moment.
    pub beta1: f64,
    /// β₂, the decay of the second moment.
    pub beta2: f64,
    /// ε, added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay λ.
    pub weight_decay: f64,
    state: Vec<Option<AdamState>>,
    store: Option<u64>,
}

#[derive(Clone, Debug)]
struct AdamState {
    step: i32,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl AdamW {
    /// `AdamW(params, lr)` with PyTorch's other defaults.
    pub fn new(lr: f64) -> AdamW {
        AdamW {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-2,
            state: Vec::new(),
            store: None,
        }
    }

    /// Sets β₁ and β₂.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> AdamW {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// Sets the decoupled weight decay λ.
    pub fn weight_decay(mut self, weight_decay: f64) -> AdamW {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets ε.
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> AdamW {
        if !(eps > 0.0 && eps.is_finite()) {
            panic!(
                "AdamW::eps: eps = {eps} must be a positive, finite number\n  \
                 it keeps m / (sqrt(v) + eps) finite while v is still 0; PyTorch's default is 1e-8"
            );
        }
        self.eps = eps;
        self
    }
}

impl Default for AdamW {
    fn default() -> AdamW {
        AdamW::new(1e-3)
    }
}

impl Optimizer for AdamW {
    // ANCHOR: adamw_step
    #[track_caller]
    fn step(&mut self, params: &mut Params, grads: &ParamGrads) {
        self.store = Some(check_step("AdamW::step", self.store, params, grads));
        self.state.resize(params.len(), None);
        let (lr, b1, b2) = (self.lr, self.beta1, self.beta2);
        for (id, p) in params.iter_mut() {
            let Some(g) = grads.get(id) else { continue };
            let n = g.numel();
            let s = self.state[id.index()].get_or_insert_with(|| AdamState {
                step: 0,
                m: vec![0.0; n],
                v: vec![0.0; n],
            });
            s.step += 1;
            // Scalars in f64, once per step, then rounded to f32.
            let bc1 = 1.0 - b1.powi(s.step);
            let bc2_sqrt = ((1.0 - b2.powi(s.step)).sqrt()) as f32;
            let step_size = (lr / bc1) as f32;
            let decay = (1.0 - lr * self.weight_decay) as f32;
            let (w1, b2f, w2, eps) =
                ((1.0 - b1) as f32, b2 as f32, (1.0 - b2) as f32, self.eps as f32);
            let values = Arc::make_mut(&mut p.value).data_mut();
            for (((p, &g), m), v) in
                values.iter_mut().zip(g.data()).zip(&mut s.m).zip(&mut s.v)
            {
                *p *= decay;
                *m += w1 * (g - *m); // lerp towards g
                *v = b2f * *v + w2 * g * g;
                *p -= step_size * (*m / (v.sqrt() / bc2_sqrt + eps));
            }
        }
    }
    // ANCHOR_END: adamw_step

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.state.clear();
        self.store = None;
    }
}
// ANCHOR_END: adamw

// ANCHOR: clip
/// Scales all gradients together so that their global norm is at most
/// `max_norm`, as `torch.nn.utils.clip_grad_norm_` does, and returns the
/// norm before clipping:
///
/// ```text
/// n = √(Σ ‖g‖²),   c = min(1, max_norm / (n + 1e-6)),   g ← c g
/// ```
pub fn clip_grad_norm(grads: &mut ParamGrads, max_norm: f32) -> f32 {
    let norm = grads.global_norm();
    // Written so that a NaN norm gives a NaN factor (every gradient becomes
    // NaN, as in PyTorch) instead of `f32::min` quietly choosing 1.
    let c = max_norm / (norm + 1e-6);
    if c.is_nan() || c < 1.0 {
        for g in grads.grads.iter_mut().flatten() {
            g.data_mut().iter_mut().for_each(|v| *v *= c);
        }
    }
    norm
}
// ANCHOR_END: clip

// ANCHOR: linear_warmup
/// Linear warmup: the factor to multiply the base learning rate by at
/// 0-based `step`, rising as `(step + 1) / warmup_steps` to 1 and staying
/// there. With `warmup_steps == 0` it is always 1.
///
/// ```
/// use resgrad::optim::linear_warmup;
/// assert_eq!(linear_warmup(0, 4), 0.25);
/// assert_eq!(linear_warmup(3, 4), 1.0);
/// assert_eq!(linear_warmup(100, 4), 1.0);
/// ```
pub fn linear_warmup(step: usize, warmup_steps: usize) -> f64 {
    if warmup_steps == 0 {
        1.0
    } else {
        ((step + 1) as f64 / warmup_steps as f64).min(1.0)
    }
}
// ANCHOR_END: linear_warmup
