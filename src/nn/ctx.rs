//! The context of one forward pass: the tape, the parameters, train or eval
//! mode, the dropout generator, and the activations saved for inspection.

use super::params::{ParamGrads, ParamId, Params};
use crate::rng::Rng;
use crate::tape::{Grads, Tape, Var};
use crate::tensor::Tensor;
use std::cell::RefCell;

/// One forward pass: which tape records it, which parameters it reads,
/// whether it is training (dropout on) or evaluating (dropout off).
pub struct Ctx<'t> {
    tape: &'t Tape,
    params: &'t Params,
    leaves: RefCell<Vec<Option<Var<'t>>>>,
    training: bool,
    rng: RefCell<Rng>,
    activations: RefCell<Vec<(String, Var<'t>)>>,
}

impl<'t> Ctx<'t> {
    /// A training pass: dropout is active, with masks drawn from a
    /// generator seeded with `seed` (use a different seed each step).
    pub fn train(tape: &'t Tape, params: &'t Params, seed: u64) -> Ctx<'t> {
        Ctx::new(tape, params, true, seed)
    }

    /// An evaluation pass: dropout is the identity.
    pub fn eval(tape: &'t Tape, params: &'t Params) -> Ctx<'t> {
        Ctx::new(tape, params, false, 0)
    }

    fn new(tape: &'t Tape, params: &'t Params, training: bool, seed: u64) -> Ctx<'t> {
        Ctx {
            tape,
            params,
            leaves: RefCell::new(vec![None; params.len()]),
            training,
            rng: RefCell::new(Rng::new(seed)),
            activations: RefCell::new(Vec::new()),
        }
    }

    /// The tape this pass records on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The parameter store this pass reads.
    pub fn params(&self) -> &'t Params {
        self.params
    }

    /// True in a training pass.
    pub fn training(&self) -> bool {
        self.training
    }

    // ANCHOR: ctx_param
    /// The parameter as a node of the tape: recorded as a leaf on first use,
    /// the same node after that (so a shared weight sums its gradients).
    #[track_caller]
    pub fn param(&self, id: ParamId) -> Var<'t> {
        self.params.check(id);
        let mut leaves = self.leaves.borrow_mut();
        *leaves[id.index].get_or_insert_with(|| {
            self.tape.leaf_shared(self.params.get_shared(id)).label(self.params.name(id))
        })
    }
    // ANCHOR_END: ctx_param

    /// Makes `var` stand for parameter `id` in this pass, instead of a leaf
    /// holding the stored value: used to check a layer's parameter
    /// gradients with [`gradcheck`](crate::check::gradcheck), which supplies
    /// its own perturbed copies. Must come before the parameter's first use.
    #[track_caller]
    pub fn bind(&self, id: ParamId, var: Var<'t>) {
        let expected = self.params.get(id).shape();
        if self.leaves.borrow()[id.index].is_some() {
            panic!(
                "Ctx::bind: `{}` was already used (or bound) in this pass\n  \
                 bind parameters before running the layer, once each",
                self.params.name(id)
            );
        }
        if var.shape() != *expected {
            panic!(
                "Ctx::bind: `{}` has shape {expected} but the value bound to it has shape {}",
                self.params.name(id),
                var.shape()
            );
        }
        self.leaves.borrow_mut()[id.index] = Some(var);
    }

    /// Records data (inputs, targets, masks) as a constant.
    pub fn input(&self, value: Tensor) -> Var<'t> {
        self.tape.constant(value)
    }

    /// Inverted dropout with probability `p` in training, the identity in
    /// evaluation; masks come from this pass's seeded generator.
    #[track_caller]
    pub fn dropout(&self, x: Var<'t>, p: f32) -> Var<'t> {
        x.dropout(p, &mut self.rng.borrow_mut(), self.training)
    }

    /// Keeps an intermediate value (an activation) under a name, for
    /// [`inspect::activation_stats`](crate::inspect::activation_stats). It is
    /// already on the tape; this only remembers which node to look at.
    pub fn save_activation(&self, name: impl Into<String>, value: Var<'t>) {
        self.activations.borrow_mut().push((name.into(), value));
    }

    /// The values kept with [`Ctx::save_activation`], in order.
    pub fn saved_activations(&self) -> Vec<(String, Var<'t>)> {
        self.activations.borrow().clone()
    }

    // ANCHOR: param_grads
    /// The gradient of every parameter this pass used, taken from the
    /// result of `tape.backward`.
    pub fn param_grads(&self, grads: &Grads) -> ParamGrads {
        let leaves = self.leaves.borrow();
        ParamGrads {
            grads: leaves
                .iter()
                .map(|leaf| leaf.and_then(|v| grads.get(v).cloned()))
                .collect(),
            store: self.params.store_id(),
        }
    }
    // ANCHOR_END: param_grads
}
