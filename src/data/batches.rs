//! Batches for the training loop: one trait over image and text data, and the token source
//! (images are in `image_source`).
use crate::error::Result;
use rand::{seq::SliceRandom, SeedableRng};
use std::sync::Arc;
use tch::{Kind, Tensor};

pub struct Batch {
    pub x: Tensor,
    pub y: Tensor,
    /// Positions of the batch's samples in the source, for per-sample reporting.
    pub index: Vec<usize>,
}

pub trait BatchSource {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn labels(&self) -> Vec<i64>;
    /// All batches of one epoch. `train` shuffles (seeded by `seed`, `epoch`) and augments.
    fn batches(&self, epoch: u64, train: bool, batch_size: usize) -> Box<dyn Iterator<Item = Result<Batch>>> {
        self.batches_from(epoch, train, batch_size, 0)
    }
    /// The batches of one epoch from batch `skip` on: the same batches `batches` yields after its
    /// first `skip` (a resumed run continues mid-epoch).
    fn batches_from(
        &self,
        epoch: u64,
        train: bool,
        batch_size: usize,
        skip: usize,
    ) -> Box<dyn Iterator<Item = Result<Batch>>>;
}

pub(super) fn order(n: usize, shuffle: bool, seed: u64, epoch: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    if shuffle {
        idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(epoch.wrapping_mul(0x9E37_79B9))));
    }
    idx
}

pub(super) fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Training batches are formed inside windows of this many batches, sorted by length: the
/// batches stay random at the scale of an epoch while each pads to nearly its own length.
/// (The same idea as `group_by_length` in transformers' Trainer, which uses 50.)
pub const LENGTH_GROUP_WINDOW: usize = 50;

/// Token id sequences (already encoded, unpadded) with labels; batches are padded to their longest.
#[derive(Clone)]
pub struct TokenSource {
    pub ids: Arc<Vec<Vec<i64>>>,
    pub labels: Arc<Vec<i64>>,
    pub pad_id: i64,
    pub seed: u64,
    /// Batch texts of similar length together (cuts padding; on drug reviews at 128 tokens the
    /// padded length per text falls from ~128 to ~94). Evaluation batches are then length-sorted.
    pub group_by_length: bool,
}

impl TokenSource {
    pub fn new(ids: Vec<Vec<i64>>, labels: Vec<i64>, pad_id: i64, seed: u64) -> Self {
        assert_eq!(ids.len(), labels.len(), "ids and labels differ in length");
        TokenSource { ids: Arc::new(ids), labels: Arc::new(labels), pad_id, seed, group_by_length: true }
    }

    /// Rows of each batch of one epoch.
    fn batch_rows(&self, epoch: u64, train: bool, batch_size: usize) -> Vec<Vec<usize>> {
        let bs = batch_size.max(1);
        let idx = order(self.ids.len(), train, self.seed, epoch);
        if !self.group_by_length {
            return idx.chunks(bs).map(<[usize]>::to_vec).collect();
        }
        let len = |i: &usize| std::cmp::Reverse(self.ids[*i].len());
        if !train {
            let mut idx = idx;
            idx.sort_by_key(len);
            return idx.chunks(bs).map(<[usize]>::to_vec).collect();
        }
        let mut rows: Vec<Vec<usize>> = Vec::new();
        for window in idx.chunks(bs * LENGTH_GROUP_WINDOW) {
            let mut w = window.to_vec();
            w.sort_by_key(len); // stable: ties keep the shuffled order
            rows.extend(w.chunks(bs).map(<[usize]>::to_vec));
        }
        // without this, every window would run from its longest batch to its shortest
        rows.shuffle(&mut rand::rngs::StdRng::seed_from_u64(
            self.seed ^ epoch.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED,
        ));
        rows
    }

    /// Pad `rows` of `ids` into an `[N,L]` tensor, L = longest row (at least 1).
    pub fn pad(ids: &[Vec<i64>], rows: &[usize], pad_id: i64) -> Tensor {
        let l = rows.iter().map(|&i| ids[i].len()).max().unwrap_or(0).max(1);
        let mut flat = vec![pad_id; rows.len() * l];
        for (r, &i) in rows.iter().enumerate() {
            flat[r * l..r * l + ids[i].len()].copy_from_slice(&ids[i]);
        }
        Tensor::from_slice(&flat).view([rows.len() as i64, l as i64])
    }
}

impl BatchSource for TokenSource {
    fn len(&self) -> usize {
        self.ids.len()
    }
    fn labels(&self) -> Vec<i64> {
        self.labels.to_vec()
    }
    fn batches_from(
        &self,
        epoch: u64,
        train: bool,
        batch_size: usize,
        skip: usize,
    ) -> Box<dyn Iterator<Item = Result<Batch>>> {
        let chunks: Vec<Vec<usize>> = self.batch_rows(epoch, train, batch_size).into_iter().skip(skip).collect();
        let (ids, labels, pad) = (self.ids.clone(), self.labels.clone(), self.pad_id);
        Box::new(chunks.into_iter().map(move |rows| {
            let y: Vec<i64> = rows.iter().map(|&i| labels[i]).collect();
            Ok(Batch { x: Self::pad(&ids, &rows, pad), y: Tensor::from_slice(&y).to_kind(Kind::Int64), index: rows })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_batches_pad_and_cover_every_sample_once() {
        let src = TokenSource::new(vec![vec![5, 6, 7], vec![8], vec![9, 10]], vec![1, 0, 1], 0, 3);
        let batches: Vec<Batch> = src.batches(0, true, 2).collect::<Result<_>>().unwrap();
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.index.clone()).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2]);
        let eval: Vec<Batch> = src.batches(0, false, 3).collect::<Result<_>>().unwrap();
        assert_eq!(eval[0].x.size(), vec![3, 3]);
        // evaluation batches are sorted longest first
        assert_eq!(eval[0].index, vec![0, 2, 1]);
        assert_eq!(Vec::<i64>::try_from(eval[0].x.view([-1])).unwrap(), vec![5, 6, 7, 9, 10, 0, 8, 0, 0]);
        let plain = TokenSource { group_by_length: false, ..src };
        let eval: Vec<Batch> = plain.batches(0, false, 3).collect::<Result<_>>().unwrap();
        assert_eq!(Vec::<i64>::try_from(eval[0].x.view([-1])).unwrap(), vec![5, 6, 7, 8, 0, 0, 9, 10, 0]);
    }

    fn padded_tokens(src: &TokenSource, train: bool) -> i64 {
        src.batches(0, train, 8).map(|b| b.unwrap().x.numel() as i64).sum()
    }

    #[test]
    fn length_grouping_cuts_padding_and_keeps_every_sample_once() {
        // lengths 1..=400 in a scrambled order
        let ids: Vec<Vec<i64>> = (0..400).map(|i| vec![1; 1 + (i * 7919) % 400]).collect();
        let labels = vec![0; 400];
        let grouped = TokenSource::new(ids.clone(), labels.clone(), 0, 5);
        let plain = TokenSource { group_by_length: false, ..grouped.clone() };
        for train in [true, false] {
            let mut seen: Vec<usize> = grouped.batches(0, train, 8).flat_map(|b| b.unwrap().index).collect();
            seen.sort();
            assert_eq!(seen, (0..400).collect::<Vec<_>>());
            let (g, p) = (padded_tokens(&grouped, train), padded_tokens(&plain, train));
            assert!(g * 10 < p * 6, "grouped {g} vs plain {p} padded tokens (train: {train})");
        }
        // reproducible per epoch, different across epochs, batch order not sorted by length
        let rows = |e| grouped.batch_rows(e, true, 8);
        assert_eq!(rows(1), rows(1));
        assert_ne!(rows(1), rows(2));
        let longest: Vec<usize> = rows(1).iter().map(|r| ids[r[0]].len()).collect();
        assert!(longest.windows(2).any(|w| w[0] < w[1]) && longest.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn shuffling_depends_on_epoch_and_is_reproducible() {
        assert_eq!(order(50, true, 1, 2), order(50, true, 1, 2));
        assert_ne!(order(50, true, 1, 2), order(50, true, 1, 3));
        assert_eq!(order(5, false, 1, 2), vec![0, 1, 2, 3, 4]);
    }
}
