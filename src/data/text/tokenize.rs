//! Sub-word tokenisation for the pretrained encoder: a thin wrapper around the `tokenizers`
//! crate that turns a batch of texts into a padded `[N,L]` int64 id tensor.
//!
//! `tokenizer.json` files often carry a fixed padding (all-MiniLM-L6-v2 pads every text to 128)
//! and their own truncation. Both are replaced: texts are truncated to our `max_len` *before*
//! the special tokens are added (so `[SEP]` is kept, as Hugging Face does with
//! `truncation=True, max_length=...`) and padded only to the longest text in the batch, so
//! `L = min(max_len, longest)`.
//!
//! Long texts can instead keep their head *and* tail ([`Truncation::HeadTail`]): a drug review
//! tends to open with the condition and close with the verdict, and for long documents
//! head+tail is the strongest of the simple truncations (Sun et al. 2019, "How to Fine-Tune
//! BERT for Text Classification?").
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Tensor;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Truncation {
    /// Keep the first tokens (Hugging Face's `truncation=True`).
    Head,
    /// Keep the first `head` content tokens and as many of the last as still fit.
    HeadTail { head: usize },
}

pub struct HfTokenizer {
    inner: Tokenizer,
    path: PathBuf,
    pad_id: i64,
    max_len: usize,
    truncation: Truncation,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfTokenizer")
            .field("path", &self.path)
            .field("pad_id", &self.pad_id)
            .field("max_len", &self.max_len)
            .field("truncation", &self.truncation)
            .finish()
    }
}

impl HfTokenizer {
    /// Load `tokenizer.json`. `max_len` counts the special tokens too.
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self> {
        let err = |msg: String| Error::Tokenizer { path: path.to_path_buf(), msg };
        // [CLS] + [SEP] plus at least one content token.
        if max_len < 3 {
            return Err(err(format!("max_len must be at least 3, got {max_len}")));
        }
        let mut inner = Tokenizer::from_file(path).map_err(|e| err(e.to_string()))?;
        let pad_id = pad_id_of(&inner)
            .ok_or_else(|| err("no padding id: neither a padding config nor a [PAD]/<pad> token".into()))?;
        inner.with_padding(None);
        let trunc = TruncationParams {
            max_length: max_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        };
        inner.with_truncation(Some(trunc)).map_err(|e| err(e.to_string()))?;
        Ok(Self { inner, path: path.to_path_buf(), pad_id: pad_id as i64, max_len, truncation: Truncation::Head })
    }

    /// Switch to another truncation; `HeadTail` needs room for its head plus one tail token.
    pub fn with_truncation(mut self, truncation: Truncation) -> Result<Self> {
        if let Truncation::HeadTail { head } = truncation {
            if head + 3 > self.max_len {
                let msg = format!(
                    "head+tail truncation keeps {head} head tokens, which leaves no tail within max_len {}",
                    self.max_len
                );
                return Err(Error::Tokenizer { path: self.path.clone(), msg });
            }
            // the whole text is encoded; the cut happens in `encode_ids`
            self.inner
                .with_truncation(None)
                .map_err(|e| Error::Tokenizer { path: self.path.clone(), msg: e.to_string() })?;
        }
        self.truncation = truncation;
        Ok(self)
    }

    /// `tokenizer.json` inside a model folder (e.g. [`crate::models::weights::minilm_dir`]).
    pub fn from_dir(dir: &Path, max_len: usize) -> Result<Self> {
        Self::from_file(&dir.join("tokenizer.json"), max_len)
    }

    pub fn pad_id(&self) -> i64 {
        self.pad_id
    }
    pub fn max_len(&self) -> usize {
        self.max_len
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Ids per text with special tokens, truncated to `max_len`, not padded.
    pub fn encode_ids<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<i64>>> {
        let inputs: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
        let encodings = self
            .inner
            .encode_batch(inputs, true)
            .map_err(|e| Error::Tokenizer { path: self.path.clone(), msg: e.to_string() })?;
        Ok(encodings.iter().map(|e| self.cut(e)).collect())
    }

    fn cut(&self, e: &tokenizers::Encoding) -> Vec<i64> {
        let ids: Vec<i64> = e.get_ids().iter().map(|&i| i as i64).collect();
        let Truncation::HeadTail { head } = self.truncation else { return ids };
        if ids.len() <= self.max_len {
            return ids;
        }
        // special tokens ([CLS] ... [SEP]) stay where they are; only the content is cut
        let special = e.get_special_tokens_mask();
        let lead = special.iter().take_while(|&&m| m == 1).count();
        let trail = special.iter().rev().take_while(|&&m| m == 1).count();
        let content = &ids[lead..ids.len() - trail];
        let tail = self.max_len - lead - trail - head;
        let mut out = ids[..lead].to_vec();
        out.extend_from_slice(&content[..head]);
        out.extend_from_slice(&content[content.len() - tail..]);
        out.extend_from_slice(&ids[ids.len() - trail..]);
        out
    }

    /// `[N,L]` int64 ids, `L = min(max_len, longest)`, right-padded with the pad id.
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Tensor> {
        Ok(pad_rows(&self.encode_ids(texts)?, self.pad_id))
    }
}

fn pad_id_of(tok: &Tokenizer) -> Option<u32> {
    if let Some(p) = tok.get_padding() {
        return Some(p.pad_id);
    }
    ["[PAD]", "<pad>"].iter().find_map(|t| tok.token_to_id(t))
}

/// Right-pad already truncated rows into an `[N,L]` int64 tensor, `L` = longest row (at least 1,
/// so a batch of empty texts still has a shape models accept).
pub fn pad_rows(rows: &[Vec<i64>], pad_id: i64) -> Tensor {
    let len = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut flat = Vec::with_capacity(rows.len() * len);
    for r in rows {
        flat.extend_from_slice(r);
        flat.extend(std::iter::repeat_n(pad_id, len - r.len()));
    }
    Tensor::from_slice(&flat).view([rows.len() as i64, len as i64])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::weights::minilm_dir;

    fn rows(t: &Tensor) -> Vec<Vec<i64>> {
        Vec::<Vec<i64>>::try_from(t).unwrap()
    }

    #[test]
    fn pads_to_longest_in_batch_not_to_the_files_fixed_length() {
        let tok = HfTokenizer::from_dir(&minilm_dir().unwrap(), 64).unwrap();
        assert_eq!(tok.pad_id(), 0);
        assert_eq!(tok.vocab_size(), 30522);
        let t = tok.encode(&["Okay.", "This works well."]).unwrap();
        // Expected ids from transformers' AutoTokenizer on the same folder (padding=True).
        assert_eq!(rows(&t), vec![vec![101, 3100, 1012, 102, 0, 0], vec![101, 2023, 2573, 2092, 1012, 102]]);
        assert_eq!(t.kind(), tch::Kind::Int64);
    }

    #[test]
    fn truncation_keeps_sep_and_caps_length() {
        let tok = HfTokenizer::from_dir(&minilm_dir().unwrap(), 5).unwrap();
        let long = "one two three four five six seven eight".to_string();
        let t = tok.encode(&[long, "hi".to_string()]).unwrap();
        assert_eq!(t.size(), vec![2, 5]);
        // transformers: tok(texts, padding=True, truncation=True, max_length=5).
        assert_eq!(rows(&t), vec![vec![101, 2028, 2048, 2093, 102], vec![101, 7632, 102, 0, 0]]);
    }

    #[test]
    fn head_tail_keeps_both_ends_and_leaves_short_texts_alone() {
        let dir = minilm_dir().unwrap();
        let tok = HfTokenizer::from_dir(&dir, 7).unwrap().with_truncation(Truncation::HeadTail { head: 2 }).unwrap();
        let plain = HfTokenizer::from_dir(&dir, 64).unwrap();
        let piece = |t: &str| plain.encode_ids(&[t]).unwrap().remove(0);
        let (head, tail) = (piece("one two"), piece("six seven eight"));
        let mut want = vec![101];
        want.extend(&head[1..head.len() - 1]);
        want.extend(&tail[1..tail.len() - 1]);
        want.push(102);
        let got = tok.encode_ids(&["one two three four five six seven eight", "hi there"]).unwrap();
        assert_eq!(got[0], want);
        assert_eq!(got[1], piece("hi there"));
        let e = HfTokenizer::from_dir(&dir, 7).unwrap().with_truncation(Truncation::HeadTail { head: 5 }).unwrap_err();
        assert!(e.to_string().contains("no tail"), "{e}");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("tokenizer.json");
        std::fs::write(&bad, "{not json").unwrap();
        let e = HfTokenizer::from_file(&bad, 16).unwrap_err().to_string();
        assert!(e.contains(&bad.display().to_string()), "{e}");
        let missing = dir.path().join("nope.json");
        let e = HfTokenizer::from_file(&missing, 16).unwrap_err().to_string();
        assert!(e.contains("nope.json"), "{e}");
        let e = HfTokenizer::from_dir(&minilm_dir().unwrap(), 2).unwrap_err().to_string();
        assert!(e.contains("tokenizer.json") && e.contains("at least 3"), "{e}");
    }

    #[test]
    fn pad_rows_shapes() {
        let t = pad_rows(&[vec![5, 6, 7], vec![], vec![9]], 0);
        assert_eq!(rows(&t), vec![vec![5, 6, 7], vec![0, 0, 0], vec![9, 0, 0]]);
        assert_eq!(pad_rows(&[vec![], vec![]], 0).size(), vec![2, 1]);
        assert_eq!(pad_rows(&[], 0).size(), vec![0, 1]);
    }
}
