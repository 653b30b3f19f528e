//! A word vocabulary for the from-scratch text model, built from the training texts only so
//! that nothing about validation or test wording leaks into the model's inputs.
//!
//! Words are lower-cased runs of letters/digits (an apostrophe between two of them stays inside
//! the word: "didn't"); every other non-space character is a token of its own. Id 0 is `<pad>`,
//! id 1 is `<unk>`, then words by descending training frequency (ties alphabetical, so the
//! vocabulary does not depend on input order or hash seeds).
use crate::data::text::tokenize::pad_rows;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::Tensor;

pub const PAD: &str = "<pad>";
pub const UNK: &str = "<unk>";
pub const PAD_ID: i64 = 0;
pub const UNK_ID: i64 = 1;

/// Split a text into lower-cased words and punctuation marks.
pub fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let joins_word = c == '\'' && !word.is_empty() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || joins_word {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VocabFile", into = "VocabFile")]
pub struct Vocab {
    tokens: Vec<String>,
    index: HashMap<String, i64>,
    min_freq: usize,
    max_size: usize,
}

/// On-disk form: the index is rebuilt (and the token list checked) on load.
#[derive(Serialize, Deserialize)]
struct VocabFile {
    min_freq: usize,
    max_size: usize,
    tokens: Vec<String>,
}

impl From<Vocab> for VocabFile {
    fn from(v: Vocab) -> Self {
        VocabFile { min_freq: v.min_freq, max_size: v.max_size, tokens: v.tokens }
    }
}

impl TryFrom<VocabFile> for Vocab {
    type Error = String;
    fn try_from(f: VocabFile) -> std::result::Result<Self, String> {
        if f.tokens.len() < 2 || f.tokens[0] != PAD || f.tokens[1] != UNK {
            return Err(format!("a vocabulary must start with {PAD}, {UNK}"));
        }
        let index: HashMap<String, i64> = f.tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as i64)).collect();
        if index.len() != f.tokens.len() {
            return Err("duplicate tokens in vocabulary".into());
        }
        Ok(Vocab { tokens: f.tokens, index, min_freq: f.min_freq, max_size: f.max_size })
    }
}

impl Vocab {
    /// Build from the training texts. Words seen fewer than `min_freq` times are left out; at
    /// most `max_size` entries are kept in total, `<pad>` and `<unk>` included.
    pub fn build<I, S>(train_texts: I, min_freq: usize, max_size: usize) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if min_freq < 1 || max_size < 2 {
            return Err(Error::Config(format!(
                "vocabulary needs min_freq >= 1 and max_size >= 2, got {min_freq} and {max_size}"
            )));
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for t in train_texts {
            for w in words(t.as_ref()) {
                *counts.entry(w).or_default() += 1;
            }
        }
        counts.remove(PAD);
        counts.remove(UNK);
        let mut ranked: Vec<(String, usize)> = counts.into_iter().filter(|(_, c)| *c >= min_freq).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut tokens = vec![PAD.to_string(), UNK.to_string()];
        tokens.extend(ranked.into_iter().take(max_size - 2).map(|(w, _)| w));
        Vocab::try_from(VocabFile { min_freq, max_size, tokens }).map_err(Error::Config)
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 2
    }
    pub fn min_freq(&self) -> usize {
        self.min_freq
    }
    pub fn max_size(&self) -> usize {
        self.max_size
    }
    pub fn id(&self, word: &str) -> i64 {
        self.index.get(word).copied().unwrap_or(UNK_ID)
    }
    pub fn token(&self, id: i64) -> Option<&str> {
        usize::try_from(id).ok().and_then(|i| self.tokens.get(i)).map(String::as_str)
    }

    /// Ids of one text, truncated to `max_len` (the text's start is kept).
    pub fn encode_ids(&self, text: &str, max_len: usize) -> Vec<i64> {
        words(text).iter().take(max_len).map(|w| self.id(w)).collect()
    }

    /// `[N,L]` int64 ids padded with `<pad>`=0, `L = min(max_len, longest)` (at least 1).
    pub fn encode<S: AsRef<str>>(&self, texts: &[S], max_len: usize) -> Tensor {
        let rows: Vec<Vec<i64>> = texts.iter().map(|t| self.encode_ids(t.as_ref(), max_len)).collect();
        pad_rows(&rows, PAD_ID)
    }

    /// Save as JSON (atomically), e.g. next to a checkpoint.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::atomic::write_json(path, self)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Json { path: path.into(), source: e })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_and_punctuation() {
        assert_eq!(
            words("I didn't like it... 10/10, Café!"),
            ["i", "didn't", "like", "it", ".", ".", ".", "10", "/", "10", ",", "café", "!"]
        );
        assert_eq!(words("'quoted' rock'n'roll"), ["'", "quoted", "'", "rock'n'roll"]);
        assert!(words("  \n\t").is_empty());
    }

    #[test]
    fn built_from_train_only_unseen_word_is_unk() {
        let train = ["good drug", "Good side effects", "bad"];
        let v = Vocab::build(train, 1, 100).unwrap();
        // good x2 first, then alphabetical among count-1 words.
        assert_eq!(v.tokens, [PAD, UNK, "good", "bad", "drug", "effects", "side"]);
        // "terrible" appears only in a (pretend) validation text: it maps to <unk>.
        let ids = v.encode(&["good terrible drug"], 10);
        assert_eq!(Vec::<i64>::try_from(&ids.view([-1])).unwrap(), [2, UNK_ID, 4]);
    }

    #[test]
    fn min_frequency_and_max_size() {
        let train = ["a a a b b c", "a b d"];
        let v = Vocab::build(train, 2, 100).unwrap();
        assert_eq!(v.tokens, [PAD, UNK, "a", "b"]);
        assert_eq!(v.id("c"), UNK_ID);
        let v = Vocab::build(train, 1, 3).unwrap();
        assert_eq!(v.tokens, [PAD, UNK, "a"]);
        assert_eq!(v.len(), 3);
        assert_eq!(v.id("b"), UNK_ID);
        assert!(Vocab::build(train, 0, 10).is_err());
        assert!(Vocab::build(train, 1, 1).is_err());
    }

    #[test]
    fn encode_pads_and_truncates() {
        let v = Vocab::build(["x y z"], 1, 10).unwrap();
        let t = v.encode(&["x y z x y", "z", ""], 4);
        assert_eq!(t.size(), [3, 4]);
        let rows = Vec::<Vec<i64>>::try_from(&t).unwrap();
        let (x, y, z) = (v.id("x"), v.id("y"), v.id("z"));
        assert_eq!(rows, vec![vec![x, y, z, x], vec![z, 0, 0, 0], vec![0, 0, 0, 0]]);
        // L = longest in batch when shorter than max_len.
        assert_eq!(v.encode(&["x", "x y"], 50).size(), [2, 2]);
    }

    #[test]
    fn save_load_round_trip_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.json");
        let v = Vocab::build(["some words here", "and some more words"], 1, 50).unwrap();
        v.save(&path).unwrap();
        let back = Vocab::load(&path).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.id("words"), v.id("words"));
        std::fs::write(&path, r#"{"min_freq":1,"max_size":5,"tokens":["a","<unk>"]}"#).unwrap();
        let e = Vocab::load(&path).unwrap_err().to_string();
        assert!(e.contains("vocab.json") && e.contains("<pad>"), "{e}");
    }
}
