//! Inference latency per image at a given batch size (warm-up, median of repeats), measured for
//! every trained row. Comparisons with PyTorch live in `affect-lab bench` (crate::bench).
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{nn::ModuleT, Device, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyConfig {
    pub warmup: usize,
    pub repeats: usize,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig { warmup: 3, repeats: 10 }
    }
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Median milliseconds per image for eval-mode forward passes on `input` (`[B, ...]`).
pub fn latency_ms_per_item(model: &dyn ModuleT, input: &Tensor, cfg: LatencyConfig) -> f64 {
    let batch = input.size()[0].max(1) as f64;
    let device = input.device();
    let mut times = tch::no_grad(|| {
        for _ in 0..cfg.warmup {
            let _ = model.forward_t(input, false);
        }
        sync(device);
        (0..cfg.repeats.max(1))
            .map(|_| {
                let t = Instant::now();
                let _ = model.forward_t(input, false);
                sync(device);
                t.elapsed().as_secs_f64() * 1e3 / batch
            })
            .collect::<Vec<f64>>()
    });
    median(&mut times)
}

/// Median of `v` (NaN when empty); sorts `v` in place.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Random image input `[batch,3,size,size]` on `device`.
pub fn image_input(batch: i64, size: i64, device: Device) -> Tensor {
    Tensor::randn([batch, 3, size, size], (Kind::Float, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_known_answers() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
