//! Quantization-aware training: a weight constraint that shows the training kernel
//! fake-quantized weights in the forward pass of the chosen layers, while gradients update
//! the float weights (the straight-through estimator).
use ndarray::{Array2, ArrayView2};

use super::{fake_quantize, QuantScheme};
use crate::kernels::nn::WeightConstraint;

/// Fake-quantizes the forward weights of the layers marked in `selected` with `scheme`.
#[derive(Debug, Clone)]
pub struct FakeQuantLayers {
    pub scheme: QuantScheme,
    /// One flag per layer; layers past the end are left alone.
    pub selected: Vec<bool>,
}

impl WeightConstraint for FakeQuantLayers {
    fn forward_weight(&self, layer: usize, master: ArrayView2<f32>) -> Option<Array2<f32>> {
        if self.selected.get(layer).copied().unwrap_or(false) {
            fake_quantize(master, &self.scheme).ok()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::quant::Granularity;
    use ndarray::arr2;

    #[test]
    fn only_selected_layers_see_quantized_weights() {
        let scheme = QuantScheme::new(2, true, Granularity::Tensor);
        let c = FakeQuantLayers {
            scheme,
            selected: vec![false, true],
        };
        let w = arr2(&[[0.1f32, 0.9], [-0.5, 0.33]]);
        assert!(c.forward_weight(0, w.view()).is_none());
        assert!(c.forward_weight(2, w.view()).is_none());
        let q = c.forward_weight(1, w.view()).unwrap();
        assert_eq!(q, fake_quantize(w.view(), &scheme).unwrap());
        // 2-bit symmetric codes: at most 4 distinct values.
        let mut distinct: Vec<f32> = q.iter().copied().collect();
        distinct.sort_by(f32::total_cmp);
        distinct.dedup();
        assert!(distinct.len() <= 4, "{distinct:?}");
    }
}
