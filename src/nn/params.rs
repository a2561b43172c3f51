//! Parameters: every trainable tensor of a model, in one store, under
//! PyTorch's `state_dict` names (`layers.0.self_attn.in_proj_weight`).
//!
//! Layers do not own their tensors; they hold [`ParamId`]s into a
//! [`Params`] store. That keeps the three things that walk over all
//! parameters — the optimiser, the gradient report, and loading and saving
//! weights — to one loop over one list, and it makes the names PyTorch uses
//! the keys of everything.

use crate::tensor::Tensor;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(0);

/// A handle to one parameter in a [`Params`] store. It remembers which
/// store it came from, so that using it with another store is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

impl ParamId {
    /// The parameter's position in its store (registration order).
    pub fn index(self) -> usize {
        self.index
    }
}

/// One named parameter.
#[derive(Clone, Debug)]
pub struct Param {
    /// The full `state_dict` name, e.g. `linear1.weight`.
    pub name: String,
    /// The current value, updated in place by optimisers.
    ///
    /// Shared, not copied, with the tape of a forward pass that reads it
    /// ([`Ctx::param`](super::Ctx::param)), so a training step does not
    /// copy every weight. Write through [`Arc::make_mut`] (or
    /// [`Params::get_mut`]): it copies only if a tape still holds the value.
    pub value: Arc<Tensor>,
}

// ANCHOR: params_store
/// The store of a model's parameters, in registration order.
///
/// ```
/// use resgrad::nn::{Linear, Params};
/// use resgrad::Rng;
/// let mut params = Params::new();
/// let layer =
///     Linear::new(&mut params.scope("encoder.proj"), 4, 3, true, &mut Rng::new(0));
/// assert_eq!(params.names(), ["encoder.proj.weight", "encoder.proj.bias"]);
/// assert_eq!(params.get(layer.weight).dims(), &[3, 4]); // PyTorch's [out, in]
/// ```
///
/// A clone is a snapshot of the weights that the same layers (the same
/// [`ParamId`]s) can run with.
#[derive(Clone, Debug)]
pub struct Params {
    entries: Vec<Param>,
    by_name: HashMap<String, usize>,
    id: u64,
}
// ANCHOR_END: params_store

impl Default for Params {
    fn default() -> Params {
        Params {
            entries: Vec::new(),
            by_name: HashMap::new(),
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Params {
    /// An empty store.
    pub fn new() -> Params {
        Params::default()
    }

    /// Which store this is (ids and gradients carry it, to catch mix-ups).
    pub(crate) fn store_id(&self) -> u64 {
        self.id
    }

    /// Panics unless `id` was handed out by this store (or a clone of it).
    #[track_caller]
    pub(crate) fn check(&self, id: ParamId) {
        if id.store != self.id || id.index >= self.entries.len() {
            panic!(
                "parameter #{} belongs to a different Params store than the one given here\n  \
                 run each layer with the Params it was built on",
                id.index
            );
        }
    }

    /// A scope that prefixes every name registered through it with
    /// `prefix.` (nothing for an empty prefix).
    pub fn scope(&mut self, prefix: &str) -> Scope<'_> {
        Scope { params: self, prefix: prefix.to_string() }
    }

    /// Registers a parameter under its full name. Panics if the name is taken:
    /// two layers registered under one prefix is a bug in the model's code.
    #[track_caller]
    pub fn add(&mut self, name: impl Into<String>, value: Tensor) -> ParamId {
        let name = name.into();
        if self.by_name.contains_key(&name) {
            panic!(
                "Params::add: a parameter named `{name}` already exists\n  \
                 give each layer its own scope, e.g. params.scope(\"layers.1\")"
            );
        }
        self.by_name.insert(name.clone(), self.entries.len());
        self.entries.push(Param { name, value: Arc::new(value) });
        ParamId { store: self.id, index: self.entries.len() - 1 }
    }

    /// The value of a parameter.
    #[track_caller]
    pub fn get(&self, id: ParamId) -> &Tensor {
        self.check(id);
        &self.entries[id.index].value
    }

    /// The value of a parameter, writable (for optimisers and initialisers).
    #[track_caller]
    pub fn get_mut(&mut self, id: ParamId) -> &mut Tensor {
        self.check(id);
        Arc::make_mut(&mut self.entries[id.index].value)
    }

    /// The shared value of a parameter, as a tape records it.
    #[track_caller]
    pub(crate) fn get_shared(&self, id: ParamId) -> Arc<Tensor> {
        self.check(id);
        Arc::clone(&self.entries[id.index].value)
    }

    /// The name of a parameter.
    #[track_caller]
    pub fn name(&self, id: ParamId) -> &str {
        self.check(id);
        &self.entries[id.index].name
    }

    /// Looks a parameter up by its full name.
    pub fn find(&self, name: &str) -> Option<ParamId> {
        self.by_name.get(name).map(|&index| ParamId { store: self.id, index })
    }

    /// Every name, in registration order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|p| p.name.as_str()).collect()
    }

    /// Every parameter with its id, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &Param)> {
        let store = self.id;
        self.entries
            .iter()
            .enumerate()
            .map(move |(index, p)| (ParamId { store, index }, p))
    }

    /// Every parameter with its id, writable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ParamId, &mut Param)> {
        let store = self.id;
        self.entries
            .iter_mut()
            .enumerate()
            .map(move |(index, p)| (ParamId { store, index }, p))
    }

    /// Number of parameters (tensors).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no parameter is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalar weights.
    pub fn numel(&self) -> usize {
        self.entries.iter().map(|p| p.value.numel()).sum()
    }
}

impl fmt::Display for Params {
    /// One line per parameter: name, shape and element count, then the total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.entries.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &self.entries {
            writeln!(
                f,
                "{:<width$}  {:<16} {:>10}",
                p.name,
                p.value.shape().to_string(),
                p.value.numel()
            )?;
        }
        write!(f, "{} tensors, {} weights", self.len(), self.numel())
    }
}

/// A view of a [`Params`] store that registers names under a prefix, the
/// way PyTorch names a submodule's parameters after the attribute holding it.
pub struct Scope<'a> {
    params: &'a mut Params,
    prefix: String,
}

impl Scope<'_> {
    /// The full name of `name` in this scope.
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// A nested scope: `scope("layers").sub("0")` registers `layers.0.*`.
    pub fn sub(&mut self, name: &str) -> Scope<'_> {
        let prefix = self.path(name);
        Scope { params: self.params, prefix }
    }

    /// Registers `value` as `prefix.name`.
    #[track_caller]
    pub fn add(&mut self, name: &str, value: Tensor) -> ParamId {
        let full = self.path(name);
        self.params.add(full, value)
    }

    /// The store behind this scope.
    pub fn params(&mut self) -> &mut Params {
        self.params
    }
}

/// The gradient of every parameter after one backward pass, by [`ParamId`]
/// (`None` where a parameter did not reach the loss).
#[derive(Clone, Debug)]
pub struct ParamGrads {
    pub(crate) grads: Vec<Option<Tensor>>,
    pub(crate) store: u64,
}

impl ParamGrads {
    #[track_caller]
    fn check(&self, id: ParamId) {
        if id.store != self.store {
            panic!(
                "parameter #{} is from a different Params store than these gradients\n  \
                 look parameters up in the gradients of a pass over their own store",
                id.index
            );
        }
    }

    /// Panics unless these gradients came from a pass over `params`.
    #[track_caller]
    pub(crate) fn check_store(&self, params: &Params, who: &str) {
        if self.store != params.store_id() {
            panic!(
                "{who}: these gradients come from a pass over a different Params store\n  \
                 update the store whose Ctx produced them"
            );
        }
    }

    /// The gradient of a parameter, if it reached the loss.
    #[track_caller]
    pub fn get(&self, id: ParamId) -> Option<&Tensor> {
        self.check(id);
        self.grads.get(id.index).and_then(|g| g.as_ref())
    }

    /// The gradient of a parameter, writable (gradient clipping scales these).
    #[track_caller]
    pub fn get_mut(&mut self, id: ParamId) -> Option<&mut Tensor> {
        self.check(id);
        self.grads.get_mut(id.index).and_then(|g| g.as_mut())
    }

    /// Iterates over `(id, gradient)` for the parameters that have one.
    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &Tensor)> {
        let store = self.store;
        self.grads.iter().enumerate().filter_map(move |(index, g)| {
            g.as_ref().map(|g| (ParamId { store, index }, g))
        })
    }

    /// The Euclidean norm of all gradients together, accumulated in f64.
    pub fn global_norm(&self) -> f32 {
        let sq: f64 =
            self.iter().flat_map(|(_, g)| g.data()).map(|&v| v as f64 * v as f64).sum();
        sq.sqrt() as f32
    }
}
