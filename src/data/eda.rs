//! Exploratory numbers for the drug reviews: the Pearson correlation matrix of the numeric
//! columns (computed with polars) and the class distribution before and after binning.
use crate::data::text::Review;
use crate::error::{Error, Result};
use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// Column names of `review_frame`, in matrix order.
pub const EDA_COLUMNS: [&str; 5] = ["rating", "usefulCount", "review_words", "date_days", "label"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationMatrix {
    pub names: Vec<String>,
    /// `values[i][j]` = Pearson r of columns i and j; NaN (JSON null) where a column is constant.
    pub values: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    pub labels: Vec<String>,
    pub counts: Vec<u64>,
}

/// One row per review, Float64 columns `EDA_COLUMNS` (null where a review lacks the value):
/// rating, usefulCount, review length in words, date as days since 1970-01-01, binned label.
pub fn review_frame(reviews: &[Review]) -> Result<DataFrame> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(|| Error::Config("epoch".into()))?;
    let rating: Vec<Option<f64>> = reviews.iter().map(|r| r.rating.map(f64::from)).collect();
    let useful: Vec<Option<f64>> = reviews.iter().map(|r| r.useful_count).collect();
    let words: Vec<Option<f64>> = reviews.iter().map(|r| Some(r.text.split_whitespace().count() as f64)).collect();
    let days: Vec<Option<f64>> = reviews.iter().map(|r| r.date.map(|d| (d - epoch).num_days() as f64)).collect();
    let label: Vec<Option<f64>> = reviews.iter().map(|r| Some(f64::from(r.label))).collect();
    let cols = [rating, useful, words, days, label]
        .into_iter()
        .zip(EDA_COLUMNS)
        .map(|(v, n)| Column::new(n.into(), v))
        .collect();
    Ok(DataFrame::new(reviews.len(), cols)?)
}

/// Pearson correlations of `names` in `df`, over the rows where none of them is null.
pub fn correlation_matrix(df: &DataFrame, names: &[&str]) -> Result<CorrelationMatrix> {
    let k = names.len();
    let centred: Vec<Expr> = names
        .iter()
        .map(|n| (col(*n).cast(DataType::Float64) - col(*n).cast(DataType::Float64).mean()).alias(*n))
        .collect();
    let sums: Vec<Expr> = (0..k)
        .flat_map(|i| (i..k).map(move |j| (i, j)))
        .map(|(i, j)| (col(names[i]) * col(names[j])).sum().alias(format!("s{i}_{j}")))
        .collect();
    let subset: Vec<Expr> = names.iter().map(|n| col(*n)).collect();
    let out = df.clone().lazy().select(subset).drop_nulls(None).select(centred).select(sums).collect()?;
    let s = |i: usize, j: usize| -> Result<f64> {
        let (a, b) = (i.min(j), i.max(j));
        Ok(out.column(&format!("s{a}_{b}"))?.f64()?.get(0).unwrap_or(f64::NAN))
    };
    // A constant column has no correlation; NaN says so rather than a made-up 0.
    let r = |i: usize, j: usize| -> Result<f64> {
        let den = (s(i, i)? * s(j, j)?).sqrt();
        Ok(if den > 0.0 { (s(i, j)? / den).clamp(-1.0, 1.0) } else { f64::NAN })
    };
    let values = (0..k).map(|i| (0..k).map(|j| r(i, j)).collect::<Result<Vec<f64>>>()).collect::<Result<Vec<_>>>()?;
    Ok(CorrelationMatrix { names: names.iter().map(|n| n.to_string()).collect(), values })
}

/// The correlation matrix of `EDA_COLUMNS` for Drugs.com reviews.
pub fn review_correlations(reviews: &[Review]) -> Result<CorrelationMatrix> {
    correlation_matrix(&review_frame(reviews)?, &EDA_COLUMNS)
}

/// Counts per rating 1..=10 (reviews without an integer rating in range are not counted).
pub fn rating_distribution(reviews: &[Review]) -> Distribution {
    let mut counts = vec![0u64; 10];
    for r in reviews {
        if let Some(x) = r.rating.filter(|x| x.fract() == 0.0 && (1.0..=10.0).contains(x)) {
            counts[x as usize - 1] += 1;
        }
    }
    Distribution { labels: (1..=10).map(|i| i.to_string()).collect(), counts }
}

/// Counts of the binned labels.
pub fn label_distribution(reviews: &[Review]) -> Distribution {
    let pos = reviews.iter().filter(|r| r.label == 1).count() as u64;
    Distribution { labels: vec!["negative".into(), "positive".into()], counts: vec![reviews.len() as u64 - pos, pos] }
}

fn month(r: &Review) -> Option<String> {
    r.date.map(|d| d.format("%Y-%m").to_string())
}

/// Every month ("YYYY-MM") from the earliest to the latest dated review of `sets`, in order.
pub fn months(sets: &[&[Review]]) -> Vec<String> {
    use chrono::Datelike;
    let dates = sets.iter().flat_map(|s| s.iter().filter_map(|r| r.date));
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else { return Vec::new() };
    let (mut y, mut m) = (first.year(), first.month());
    let mut out = Vec::new();
    while (y, m) <= (last.year(), last.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// Per month of `months`, the mean of `hit` over the reviews dated in it; `None` for a month
/// with fewer than `min_n` reviews (too few to say anything).
fn share_by_month(
    reviews: &[Review],
    hit: impl Fn(usize) -> bool,
    months: &[String],
    min_n: usize,
) -> Vec<Option<f64>> {
    let mut counts: std::collections::HashMap<String, (usize, usize)> = Default::default();
    for (i, r) in reviews.iter().enumerate() {
        if let Some(m) = month(r) {
            let c = counts.entry(m).or_default();
            c.0 += 1;
            c.1 += usize::from(hit(i));
        }
    }
    months.iter().map(|m| counts.get(m).filter(|c| c.0 >= min_n.max(1)).map(|c| c.1 as f64 / c.0 as f64)).collect()
}

/// The share of positive reviews per month.
pub fn positive_share_by_month(reviews: &[Review], months: &[String], min_n: usize) -> Vec<Option<f64>> {
    share_by_month(reviews, |i| reviews[i].label == 1, months, min_n)
}

/// The accuracy per month of `predictions` (one per review, in order).
pub fn accuracy_by_month(
    reviews: &[Review],
    predictions: &[i64],
    months: &[String],
    min_n: usize,
) -> Result<Vec<Option<f64>>> {
    if predictions.len() != reviews.len() {
        return Err(Error::Config(format!(
            "{} predictions for {} reviews: the results were scored on other data",
            predictions.len(),
            reviews.len()
        )));
    }
    Ok(share_by_month(reviews, |i| predictions[i] == i64::from(reviews[i].label), months, min_n))
}

/// Words that keep a review off a projected slide: explicit sexual wording, common in reviews of
/// contraceptives and erectile drugs, reads badly in front of an audience however real it is.
const NOT_FOR_A_SCREEN: &[&str] = &[
    "cum",
    "cummed",
    "ejaculate",
    "ejaculation",
    "erection",
    "erections",
    "intercourse",
    "masturbate",
    "masturbation",
    "orgasm",
    "orgasms",
    "penis",
    "semen",
    "sex",
    "sexual",
    "vagina",
    "vaginal",
];

/// Whether a review can be read out on a slide (none of [`NOT_FOR_A_SCREEN`] among its words).
pub fn fit_for_a_screen(text: &str) -> bool {
    let lower = text.to_lowercase();
    !lower.split(|c: char| !c.is_alphabetic()).any(|w| NOT_FOR_A_SCREEN.contains(&w))
}

/// Real reviews to read beside a rating cut: for each band of ratings (inclusive), up to
/// `per_band` reviews of `min_chars..=max_chars` characters, spread evenly over the band's
/// candidates in id order (the same picks on every run, not the shortest or the first).
pub fn examples_by_band<'a>(
    reviews: &'a [Review],
    bands: &[(f32, f32)],
    per_band: usize,
    (min_chars, max_chars): (usize, usize),
) -> Vec<(f32, f32, Vec<&'a Review>)> {
    bands
        .iter()
        .map(|&(lo, hi)| {
            let mut fits: Vec<&Review> = reviews
                .iter()
                .filter(|r| r.rating.is_some_and(|x| x >= lo && x <= hi))
                .filter(|r| (min_chars..=max_chars).contains(&r.text.chars().count()))
                .collect();
            fits.sort_by(|a, b| a.id.cmp(&b.id));
            let k = per_band.min(fits.len());
            let picks = (0..k).map(|i| fits[(2 * i + 1) * fits.len() / (2 * k)]).collect();
            (lo, hi, picks)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::text::{LoadOptions, Source};

    #[test]
    fn reviews_with_explicit_wording_stay_off_a_slide_and_others_pass() {
        assert!(!fit_for_a_screen("He pulled out, but he CUMMED a bit in me."));
        assert!(!fit_for_a_screen("no sex drive at all"));
        assert!(fit_for_a_screen("Works great. No side effects; cumulative relief over a month."));
        assert!(fit_for_a_screen("It sexed up nothing")); // whole words only: "sexed" is not in the list
    }

    #[test]
    fn correlation_known_answers() {
        let df = df!(
            "x" => [1.0, 2.0, 3.0, 4.0, 5.0],
            "twice" => [2.0, 4.0, 6.0, 8.0, 10.0],
            "anti" => [10.0, 8.0, 6.0, 4.0, 2.0],
            "sq" => [1.0, 4.0, 9.0, 16.0, 25.0],
            "flat" => [3.0, 3.0, 3.0, 3.0, 3.0]
        )
        .unwrap();
        let m = correlation_matrix(&df, &["x", "twice", "anti", "sq", "flat"]).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(m.values[0][0], 1.0) && close(m.values[0][1], 1.0) && close(m.values[0][2], -1.0));
        assert!(close(m.values[1][2], -1.0) && close(m.values[2][1], -1.0));
        // Pearson r of x and x^2 for x = 1..5, by hand: 60 / sqrt(10 * 374) = 0.98110...
        assert!(close(m.values[0][3], 60.0 / (10.0f64 * 374.0).sqrt()), "{}", m.values[0][3]);
        assert!(m.values[4][0].is_nan() && m.values[4][4].is_nan());
        assert_eq!(m.names[3], "sq");
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("null"), "{json}");
    }

    #[test]
    fn correlation_drops_rows_with_nulls() {
        let df =
            df!("a" => [Some(1.0), Some(2.0), None, Some(3.0)], "b" => [Some(3.0), Some(2.0), Some(100.0), Some(1.0)])
                .unwrap();
        let m = correlation_matrix(&df, &["a", "b"]).unwrap();
        assert!((m.values[0][1] + 1.0).abs() < 1e-12, "{:?}", m.values);
    }

    fn r(rating: f32, useful: f64, text: &str, day: u32) -> Review {
        Review {
            id: day.to_string(),
            text: text.into(),
            rating: Some(rating),
            label: u8::from(rating >= 7.0),
            date: NaiveDate::from_ymd_opt(1970, 1, day),
            useful_count: Some(useful),
            drug: None,
            condition: None,
            source: Source::DrugsCom,
        }
    }

    #[test]
    fn review_frame_columns_and_distributions() {
        let rs = vec![r(1.0, 0.0, "a b", 1), r(7.0, 3.0, "a b c d", 2), r(10.0, 5.0, "a", 11), r(6.0, 1.0, "a b c", 4)];
        let df = review_frame(&rs).unwrap();
        assert_eq!(df.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>(), EDA_COLUMNS);
        let days: Vec<Option<f64>> = df.column("date_days").unwrap().f64().unwrap().iter().collect();
        assert_eq!(days, [Some(0.0), Some(1.0), Some(10.0), Some(3.0)]);
        let words: Vec<Option<f64>> = df.column("review_words").unwrap().f64().unwrap().iter().collect();
        assert_eq!(words, [Some(2.0), Some(4.0), Some(1.0), Some(3.0)]);
        let m = review_correlations(&rs).unwrap();
        // rating and label: ratings [1,7,10,6], labels [0,1,1,0] -> r = 5 / sqrt(42 * 1) by hand.
        assert!((m.values[0][4] - 5.0 / 42.0f64.sqrt()).abs() < 1e-12, "{}", m.values[0][4]);
        let d = rating_distribution(&rs);
        assert_eq!(d.counts, [1, 0, 0, 0, 0, 1, 1, 0, 0, 1]);
        assert_eq!(d.labels[0], "1");
        assert_eq!(label_distribution(&rs).counts, [2, 2]);
    }

    #[test]
    fn real_drugs_com_eda() {
        let dir = crate::testing::require(crate::config::paths::DRUGS_COM);
        let d = crate::data::text::drugs_com::load(&dir, &LoadOptions::default()).unwrap();
        let m = review_correlations(&d.train).unwrap();
        for i in 0..5 {
            assert!((m.values[i][i] - 1.0).abs() < 1e-12);
            for j in 0..5 {
                assert!((m.values[i][j] - m.values[j][i]).abs() < 1e-12);
            }
        }
        eprintln!("drugs.com train correlations {:?}", m.names);
        for row in &m.values {
            eprintln!("  {}", row.iter().map(|v| format!("{v:+.3}")).collect::<Vec<_>>().join(" "));
        }
        // The slide's finding: usefulCount goes with rating; and rating determines the label.
        assert!(m.values[0][1] > 0.15, "rating~usefulCount {}", m.values[0][1]);
        assert!(m.values[0][4] > 0.8, "rating~label {}", m.values[0][4]);
        assert_eq!(rating_distribution(&d.train).counts, [624, 213, 209, 177, 245, 205, 296, 572, 872, 1670]);
        // 1-6 negative: 624+213+209+177+245+205 = 1673.
        assert_eq!(label_distribution(&d.train).counts, [1673, 5083 - 1673]);
    }

    #[test]
    fn examples_stay_in_their_band_and_length_and_repeat() {
        let reviews: Vec<Review> = (0..40)
            .map(|k| {
                let text = if k % 5 == 0 { "short".to_string() } else { format!("review number {k} is long enough") };
                r((k % 10 + 1) as f32, 0.0, &text, k)
            })
            .collect();
        let bands = [(1.0, 3.0), (7.0, 8.0), (11.0, 12.0)];
        let got = examples_by_band(&reviews, &bands, 2, (10, 200));
        assert_eq!(got.len(), 3);
        for (lo, hi, picks) in &got[..2] {
            assert_eq!(picks.len(), 2);
            for p in picks {
                let x = p.rating.unwrap();
                assert!(x >= *lo && x <= *hi, "{x} outside {lo}-{hi}");
                assert!(p.text.len() >= 10, "{}", p.text);
            }
            assert_ne!(picks[0].id, picks[1].id);
        }
        assert!(got[2].2.is_empty(), "no ratings in 11-12");
        let again = examples_by_band(&reviews, &bands, 2, (10, 200));
        let ids = |g: &Vec<(f32, f32, Vec<&Review>)>| {
            g.iter().flat_map(|b| b.2.iter().map(|r| r.id.clone())).collect::<Vec<_>>()
        };
        assert_eq!(ids(&got), ids(&again));
    }

    #[test]
    fn monthly_shares_count_only_their_month_and_skip_thin_ones() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let mk = |label: u8, date| Review { label, date, ..r(if label == 1 { 9.0 } else { 2.0 }, 0.0, "x", 1) };
        let reviews = vec![
            mk(1, day(2016, 11, 30)),
            mk(0, day(2016, 11, 1)),
            mk(1, day(2016, 11, 15)),
            mk(1, day(2017, 1, 2)),
            mk(0, None),
        ];
        let ms = months(&[&reviews]);
        assert_eq!(ms, ["2016-11", "2016-12", "2017-01"]);
        let share = positive_share_by_month(&reviews, &ms, 1);
        assert!((share[0].unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(share[1], None);
        assert_eq!(share[2], Some(1.0));
        assert_eq!(positive_share_by_month(&reviews, &ms, 2)[2], None, "one review is under min_n 2");
        let acc = accuracy_by_month(&reviews, &[1, 1, 1, 0, 0], &ms, 1).unwrap();
        assert!((acc[0].unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(acc[2], Some(0.0));
        assert!(accuracy_by_month(&reviews, &[1], &ms, 1).is_err());
    }
}
