//! The review datasets (Drugs.com, Druglib.com, IMDB) and what they share: one `Review` type
//! for every source, text cleaning, rating binning, dedup, date/random splits, class weights,
//! class-proportional subsampling, and the bad-row policy every loader follows.
pub mod delimited;
pub mod druglib;
pub mod drugs_com;
pub mod imdb;
mod review;
#[cfg(test)]
pub(crate) mod review_sample;
mod split;
pub mod tokenize;
pub mod vocab;

pub use review::*;
pub use split::*;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::collections::HashSet;
    use std::path::Path;

    pub(crate) fn review(id: &str, text: &str, label: u8, date: Option<(i32, u32, u32)>) -> Review {
        Review {
            id: id.into(),
            text: text.into(),
            rating: Some(if label == 1 { 9.0 } else { 2.0 }),
            label,
            date: date.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap()),
            useful_count: None,
            drug: None,
            condition: None,
            source: Source::DrugsCom,
        }
    }

    #[test]
    fn cleaning_unescapes_collapses_and_unquotes() {
        assert_eq!(clean_text("\"I&#039;m  fine\r\n\r\nnow \""), "I'm fine now");
        assert_eq!(clean_text("say &amp;quot;hi&amp;quot; &amp;amp; go"), "say \"hi\" & go");
        assert_eq!(clean_text("  a\tb\u{a0}c  "), "a b c");
        // Only a pair that wraps the whole text is removed.
        assert_eq!(clean_text("\"quoted\" start"), "\"quoted\" start");
        assert_eq!(clean_text("\"\"\"triple\"\"\""), "\"\"triple\"\"");
    }

    #[test]
    fn binning_edges() {
        assert_eq!(bin_rating(6.0, DEFAULT_THRESHOLD), 0);
        assert_eq!(bin_rating(7.0, DEFAULT_THRESHOLD), 1);
        assert_eq!(bin_rating(1.0, DEFAULT_THRESHOLD), 0);
        assert_eq!(bin_rating(10.0, DEFAULT_THRESHOLD), 1);
        assert_eq!(bin_rating(7.0, 8.0), 0);
        assert_eq!(bin_rating(8.0, 8.0), 1);
        assert_eq!(bin_rating(5.0, 5.0), 1);
    }

    #[test]
    fn ratings_and_dates_parse_both_layouts() {
        assert_eq!(parse_rating("9.0"), Ok(9.0));
        assert_eq!(parse_rating(" 10 "), Ok(10.0));
        assert!(parse_rating("11").is_err());
        assert!(parse_rating("0").is_err());
        assert!(parse_rating("7.5").is_err());
        assert!(parse_rating("nine").is_err());
        assert!(parse_rating("NaN").is_err());
        assert_eq!(parse_date("27-Apr-10"), Ok(NaiveDate::from_ymd_opt(2010, 4, 27).unwrap()));
        assert_eq!(parse_date("May 20, 2012"), Ok(NaiveDate::from_ymd_opt(2012, 5, 20).unwrap()));
        assert_eq!(parse_date("2012-05-20"), Ok(NaiveDate::from_ymd_opt(2012, 5, 20).unwrap()));
        assert!(parse_date("31-Feb-10").is_err());
        let err = parse_date("27-Apr-45").unwrap_err();
        assert!(err.contains("2045-04-27") && err.contains("future"), "{err}");
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn review_serialises_with_lowercase_source_and_iso_date() {
        let r = review("7", "t", 1, Some((2012, 5, 20)));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["source"], "drugscom");
        assert_eq!(v["date"], "2012-05-20");
        assert_eq!(serde_json::to_value(Source::Druglib).unwrap(), "druglib");
        assert_eq!(serde_json::to_value(Source::Imdb).unwrap(), "imdb");
        let back: Review = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn dedup_keeps_first_and_counts() {
        let rs = vec![
            review("1", "a", 0, None),
            review("2", "b", 1, None),
            review("3", "a", 1, None),
            review("4", "a", 0, None),
        ];
        let (kept, removed) = dedup(rs);
        assert_eq!(removed, 2);
        assert_eq!(kept.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }

    fn dated(n: usize) -> Vec<Review> {
        // Two reviews per day (n even, n/2 coprime to 37), given out of date order, with ids
        // that sort differently as text and as numbers.
        let day0 = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
        (0..n)
            .map(|i| {
                let mut r = review(&((n - i) * 7).to_string(), &format!("t{i}"), (i % 3 == 0) as u8, None);
                r.date = day0.checked_add_days(chrono::Days::new((i * 37 % (n / 2)) as u64));
                r
            })
            .collect()
    }

    #[test]
    fn date_split_orders_by_date_and_is_disjoint() {
        let all = dated(60);
        let s = date_split(all.clone(), Fractions::default()).unwrap();
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 60);
        let max = |v: &[Review]| v.iter().map(|r| r.date.unwrap()).max().unwrap();
        let min = |v: &[Review]| v.iter().map(|r| r.date.unwrap()).min().unwrap();
        assert!(max(&s.train) < min(&s.valid), "train dates must precede valid dates");
        assert!(max(&s.valid) < min(&s.test), "valid dates must precede test dates");
        let mut texts: Vec<&str> = s.train.iter().chain(&s.valid).chain(&s.test).map(|r| r.text.as_str()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 60);
        // Same input in another order gives the same split.
        let mut rev = all;
        rev.reverse();
        assert_eq!(date_split(rev, Fractions::default()).unwrap(), s);
    }

    #[test]
    fn date_split_cuts_exactly_when_days_are_distinct() {
        let rs: Vec<Review> =
            (0..10).map(|i| review(&i.to_string(), &format!("t{i}"), 0, Some((2016, 1, 10 - i as u32)))).collect();
        let s = date_split(rs, Fractions::default()).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (8, 1, 1));
        assert_eq!(s.test[0].date, NaiveDate::from_ymd_opt(2016, 1, 10));
        assert_eq!(s.train[0].date, NaiveDate::from_ymd_opt(2016, 1, 1));
    }

    #[test]
    fn date_split_moves_a_cut_past_a_shared_day() {
        // 10 reviews, days 1..=7 then three on day 8: the 0.8 cut (after 8) splits day 8.
        let mut rs: Vec<Review> =
            (0..7).map(|i| review(&i.to_string(), &format!("t{i}"), 0, Some((2016, 1, 1 + i as u32)))).collect();
        rs.extend((7..10).map(|i| review(&i.to_string(), &format!("t{i}"), 0, Some((2016, 1, 8)))));
        let err = date_split(rs.clone(), Fractions::default()).unwrap_err().to_string();
        assert!(err.contains("valid split is empty"), "{err}");
        let s = date_split(rs, Fractions::new(0.6, 0.1, 0.3).unwrap()).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (6, 1, 3));
    }

    #[test]
    fn date_split_rejects_undated_reviews() {
        let rs = vec![review("1", "a", 0, Some((2015, 1, 1))), review("2", "b", 1, None)];
        let err = date_split(rs, Fractions::default()).unwrap_err().to_string();
        assert!(err.contains("\"2\""), "{err}");
    }

    #[test]
    fn fractions_validate() {
        assert!(Fractions::new(0.8, 0.1, 0.1).is_ok());
        assert!(Fractions::new(0.8, 0.1, 0.2).is_err());
        assert!(Fractions::new(0.0, 0.5, 0.5).is_err());
        assert!(Fractions::new(1.1, -0.1, 0.0).is_err());
    }

    #[test]
    fn dedup_before_split_leaves_no_text_in_two_splits() {
        let mut rs = dated(40);
        // Copies of early texts dated late: without dedup they would land in test.
        for i in 0..5 {
            let mut r = rs[i].clone();
            r.id = format!("dup{i}");
            r.date = NaiveDate::from_ymd_opt(2020, 1, 1);
            rs.push(r);
        }
        let (rs, removed) = dedup(rs);
        assert_eq!(removed, 5);
        for s in
            [date_split(rs.clone(), Fractions::default()).unwrap(), random_split(rs, Fractions::default(), 3).unwrap()]
        {
            let train: HashSet<&str> = s.train.iter().map(|r| r.text.as_str()).collect();
            let valid: HashSet<&str> = s.valid.iter().map(|r| r.text.as_str()).collect();
            assert!(s.test.iter().all(|r| !train.contains(r.text.as_str()) && !valid.contains(r.text.as_str())));
            assert!(s.valid.iter().all(|r| !train.contains(r.text.as_str())));
        }
    }

    #[test]
    fn random_split_is_seeded_and_complete() {
        let rs = dated(50);
        let a = random_split(rs.clone(), Fractions::default(), 1).unwrap();
        assert_eq!((a.train.len(), a.valid.len(), a.test.len()), (40, 5, 5));
        assert_eq!(a, random_split(rs.clone(), Fractions::default(), 1).unwrap());
        assert_ne!(a, random_split(rs, Fractions::default(), 2).unwrap());
    }

    #[test]
    fn class_weights_known_answer() {
        let rs = vec![
            review("1", "a", 0, None),
            review("2", "b", 0, None),
            review("3", "c", 0, None),
            review("4", "d", 1, None),
        ];
        let w = class_weights(&rs).unwrap();
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-6 && (w[1] - 2.0).abs() < 1e-6, "{w:?}");
        assert!((w[0] * 3.0 + w[1] * 1.0 - 4.0).abs() < 1e-5);
        assert!(class_weights(&rs[..3]).is_err());
    }

    #[test]
    fn subsample_keeps_proportions_and_is_seeded() {
        // 30 negatives, 70 positives -> 10 keeps 3 and 7.
        let labels: Vec<u8> = (0..100).map(|i| u8::from(i % 10 >= 3)).collect();
        let a = subsample_indices(&labels, 10, 5);
        assert_eq!(a.len(), 10);
        assert_eq!(a.iter().filter(|&&i| labels[i] == 0).count(), 3);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, subsample_indices(&labels, 10, 5));
        assert_ne!(a, subsample_indices(&labels, 10, 6));
        // Largest remainder: 2/3 of 4 = 2.67 and 1/3 of 4 = 1.33 -> 3 and 1.
        let l2 = [0u8, 0, 1, 0, 0, 1];
        let b = subsample_indices(&l2, 4, 0);
        assert_eq!(b.iter().filter(|&&i| l2[i] == 0).count(), 3);
        assert_eq!(subsample_indices(&l2, 9, 0), vec![0, 1, 2, 3, 4, 5]);
        let rs: Vec<Review> =
            labels.iter().enumerate().map(|(i, &l)| review(&i.to_string(), &format!("t{i}"), l, None)).collect();
        let picked = subsample(rs, 10, 5);
        assert_eq!(picked.iter().map(|r| r.id.parse::<usize>().unwrap()).collect::<Vec<_>>(), a);
    }

    #[test]
    fn bad_rows_fail_or_count() {
        let p = Path::new("f.csv");
        let mut strict = BadRows::new(p, false);
        let err = strict.reject(Some(3), "bad").unwrap_err().to_string();
        assert_eq!(err, "f.csv:3: bad");
        let mut lax = BadRows::new(p, true);
        for i in 0..12 {
            lax.reject(Some(i), "bad").unwrap();
        }
        let rep = lax.report(5);
        assert_eq!((rep.rows, rep.skipped_bad_rows, rep.first_errors.len()), (5, 12, MAX_REPORTED_ERRORS));
    }
}
