//! Hooks for constrained training: projections after each optimizer step (keep pruned
//! weights at zero) and forward-weight transforms for fake quantization with a
//! straight-through estimator.

use super::model::Mlp;
use crate::kernels::KernelError;
use ndarray::{Array1, Array2, ArrayView2, Zip};

/// A constraint applied during training. Training calls `check` once, `project` before the
/// first step and after every optimizer step, and `forward_weight` whenever master weights
/// change. The forward and input-gradient passes use the transformed weight while the
/// weight gradient updates the float master weight (straight-through estimator).
pub trait WeightConstraint: Send + Sync {
    /// Rejects a model the constraint does not fit (e.g. mask shapes).
    fn check(&self, _model: &Mlp) -> Result<(), KernelError> {
        Ok(())
    }

    /// Weight used in the forward pass (fake-quant); `None` = use the master weight as is.
    /// Must return the master's shape.
    fn forward_weight(&self, _layer: usize, _master: ArrayView2<f32>) -> Option<Array2<f32>> {
        None
    }

    /// Projection after each optimizer step (e.g. re-apply a pruning mask).
    fn project(&self, _layer: usize, _weight: &mut Array2<f32>, _bias: &mut Array1<f32>) {}
}

/// Keeps pruned weights at zero: per-layer 0/1 masks multiplied into the weights after every
/// step. Layers without a mask are unconstrained.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskConstraint {
    masks: Vec<Option<Array2<f32>>>,
}

impl MaskConstraint {
    /// Masks per layer (`None` = unconstrained); entries must be 0 or 1.
    pub fn new(masks: Vec<Option<Array2<f32>>>) -> Result<Self, KernelError> {
        for (l, mask) in masks.iter().enumerate() {
            if let Some(m) = mask {
                if m.iter().any(|&v| v != 0.0 && v != 1.0) {
                    return Err(KernelError::invalid(
                        "mask",
                        format!("layer {l}: mask entries must be 0 or 1"),
                    ));
                }
            }
        }
        Ok(MaskConstraint { masks })
    }

    /// The mask of `layer`, if any.
    pub fn mask(&self, layer: usize) -> Option<&Array2<f32>> {
        self.masks.get(layer).and_then(Option::as_ref)
    }
}

impl WeightConstraint for MaskConstraint {
    fn check(&self, model: &Mlp) -> Result<(), KernelError> {
        if self.masks.len() > model.layers.len() {
            return Err(KernelError::Shape(format!(
                "{} masks for a model with {} layers",
                self.masks.len(),
                model.layers.len()
            )));
        }
        for (l, (mask, layer)) in self.masks.iter().zip(&model.layers).enumerate() {
            if let Some(m) = mask {
                if m.dim() != layer.weight.dim() {
                    return Err(KernelError::Shape(format!(
                        "mask of layer {l} is {:?}, weight is {:?}",
                        m.dim(),
                        layer.weight.dim()
                    )));
                }
            }
        }
        Ok(())
    }

    fn project(&self, layer: usize, weight: &mut Array2<f32>, _bias: &mut Array1<f32>) {
        if let Some(m) = self.mask(layer) {
            if m.dim() == weight.dim() {
                Zip::from(weight).and(m).for_each(|w, &k| *w *= k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::nn::{Activation, Init};
    use ndarray::array;

    #[test]
    fn mask_projects_and_checks_shapes() {
        let model = Mlp::new_initialized(
            &[2, 2, 1],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            1,
        )
        .unwrap();
        let c = MaskConstraint::new(vec![Some(array![[1.0, 0.0], [0.0, 1.0]]), None]).unwrap();
        c.check(&model).unwrap();
        let mut w = array![[3.0f32, 4.0], [5.0, 6.0]];
        let mut b = array![1.0f32, 1.0];
        c.project(0, &mut w, &mut b);
        assert_eq!(w, array![[3.0, 0.0], [0.0, 6.0]]);
        assert_eq!(b, array![1.0, 1.0]);
        let wrong = MaskConstraint::new(vec![Some(Array2::ones((3, 2)))]).unwrap();
        assert!(wrong.check(&model).is_err());
        assert!(MaskConstraint::new(vec![Some(array![[0.5]])]).is_err());
    }
}
