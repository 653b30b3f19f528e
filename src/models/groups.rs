//! Optimizer parameter groups. tch puts a variable in a group when the variable is created
//! (`nn::Path::set_group`), so a model declares its groups as it builds itself: the new head in
//! [`HEAD`], a pretrained stack layer by layer (bottom first) from [`layer`]`(0)`, everything
//! else in [`BODY`]. The trainer then sets a learning rate per group (head multiple, layer-wise
//! decay) without looking inside the optimizer.
use tch::nn;

pub const BODY: usize = 0;
pub const HEAD: usize = 1;

/// Group of the `k`-th layer of a stack, counted from the bottom.
pub fn layer(k: usize) -> usize {
    HEAD + 1 + k
}

/// The groups a model was built with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Groups {
    /// Its head was built in [`HEAD`].
    pub head: bool,
    /// Its stack was built in `layer(0..layers)`.
    pub layers: usize,
}

/// `p` with the variables created under it going to the head group.
pub fn head<'a>(p: &nn::Path<'a>) -> nn::Path<'a> {
    p.set_group(HEAD)
}
