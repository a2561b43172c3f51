//! Adding a constant to every element (the `+ ε` under a square root).
//!
//! forward:  y = x + c
//! backward: dx = dy

use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// `self + c` for a constant `c`, elementwise.
    #[track_caller]
    pub fn add_scalar(self, c: f32) -> Var<'t> {
        let y = self.value().map(|x| x + c);
        self.tape().push(y, &[self], AddScalar { c })
    }
}

struct AddScalar {
    c: f32,
}

impl Backward for AddScalar {
    fn name(&self) -> &'static str {
        "add_scalar"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![dy.clone()]
    }

    fn detail(&self) -> String {
        format!("{}", self.c)
    }
}
