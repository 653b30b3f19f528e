//! Scoring without gradients: per-sample predictions of a model over a whole source.
use crate::data::batches::BatchSource;
use crate::error::Result;
use crate::numerics::{self, Numerics};
use serde::{Deserialize, Serialize};
use tch::{nn, nn::ModuleT, Device, Kind, Reduction, Tensor};

/// Predictions of a model over a whole source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Predictions {
    pub truth: Vec<i64>,
    pub pred: Vec<i64>,
    /// Unweighted cross-entropy of each sample (for top-loss reports).
    pub loss: Vec<f32>,
    /// Softmax probability of the predicted class.
    pub confidence: Vec<f32>,
}

impl Predictions {
    pub fn accuracy(&self) -> f64 {
        let ok = self.truth.iter().zip(&self.pred).filter(|(a, b)| a == b).count();
        ok as f64 / self.truth.len().max(1) as f64
    }
    pub fn mean_loss(&self) -> f64 {
        self.loss.iter().map(|&l| l as f64).sum::<f64>() / self.loss.len().max(1) as f64
    }
    /// Indices of the `k` samples with the highest loss.
    pub fn top_losses(&self, k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.loss.len()).collect();
        idx.sort_by(|&a, &b| self.loss[b].total_cmp(&self.loss[a]));
        idx.truncate(k);
        idx
    }
}

/// Number of scalars in the model's weights, excluding BatchNorm running statistics.
pub fn param_count(vs: &nn::VarStore) -> i64 {
    vs.variables()
        .iter()
        .filter(|(n, _)| {
            !(n.ends_with("running_mean") || n.ends_with("running_var") || n.ends_with("num_batches_tracked"))
        })
        .map(|(_, t)| t.numel() as i64)
        .sum()
}

/// Class log-probabilities of input `x` in evaluation mode under `numerics`, as fp32 on the CPU
/// (the caller holds `no_grad`). The one evaluation forward of the crate: validation and test
/// scoring, `evaluate` and `predict`.
pub fn eval_log_probs(model: &dyn ModuleT, x: &Tensor, device: Device, numerics: Numerics) -> Tensor {
    numerics::forward(model, &x.to_device(device), false, numerics).to_device(Device::Cpu).log_softmax(-1, Kind::Float)
}

/// Run `model` over `source` without gradients; a stop asked for (Ctrl-C) ends it early.
pub fn predict(
    model: &dyn ModuleT,
    source: &dyn BatchSource,
    device: Device,
    batch_size: usize,
) -> Result<Predictions> {
    predict_with(model, source, device, batch_size, true, Numerics::FP32)
}

/// [`predict`], a stop asked for ending it early only when `interruptible` (a validation inside
/// training runs to its end: the snapshot after it is where a stopped run continues), the
/// forward passes under `numerics`.
pub(crate) fn predict_with(
    model: &dyn ModuleT,
    source: &dyn BatchSource,
    device: Device,
    batch_size: usize,
    interruptible: bool,
    numerics: Numerics,
) -> Result<Predictions> {
    let n = source.len();
    let mut out =
        Predictions { truth: vec![-1; n], pred: vec![-1; n], loss: vec![f32::NAN; n], confidence: vec![f32::NAN; n] };
    tch::no_grad(|| -> Result<()> {
        // sources may batch in any order (text batches are length-sorted): results go back by index
        for batch in source.batches(0, false, batch_size) {
            if interruptible {
                crate::interrupt::check()?;
            }
            let b = batch?;
            let logp = eval_log_probs(model, &b.x, device, numerics);
            let loss = logp.nll_loss_nd::<Tensor>(&b.y, None, Reduction::None, -100);
            let (conf, pred) = logp.exp().max_dim(-1, false);
            let (y, pred, loss, conf) = (
                Vec::<i64>::try_from(&b.y)?,
                Vec::<i64>::try_from(&pred)?,
                Vec::<f32>::try_from(&loss)?,
                Vec::<f32>::try_from(&conf)?,
            );
            for (k, &i) in b.index.iter().enumerate() {
                (out.truth[i], out.pred[i], out.loss[i], out.confidence[i]) = (y[k], pred[k], loss[k], conf[k]);
            }
        }
        Ok(())
    })?;
    if let Some(i) = out.truth.iter().position(|&t| t < 0) {
        return Err(crate::Error::Config(format!("prediction: sample {i} of {n} was in no evaluation batch")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batches::TokenSource;

    #[test]
    fn predictions_come_back_in_source_order_when_batches_are_length_sorted() {
        // sample i has label i % 3, repeated to a length that does not follow i
        let labels: Vec<i64> = (0..40).map(|i| i % 3).collect();
        let ids: Vec<Vec<i64>> = (0..40).map(|i| vec![labels[i]; 1 + (i * 13) % 17]).collect();
        let src = TokenSource::new(ids, labels.clone(), 0, 1);
        // the first token, one-hot, as logits: predicts the label
        let model = nn::func_t(|x, _| x.select(1, 0).one_hot(3).to_kind(Kind::Float));
        let p = predict(&model, &src, Device::Cpu, 8).unwrap();
        assert_eq!(p.truth, labels);
        assert_eq!(p.pred, labels);
    }
}
