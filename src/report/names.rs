//! The names an audience reads for the experiment's code names: `resnet18_random` is
//! "ResNet18 (random init)", `minilm_drugscom` "MiniLM (Drugs.com)". Code names stay where a
//! reader types them back (results.json, checkpoints, `--models`, commands).
use crate::experiments::part2::{self, MODELS, SOURCES};
use crate::models::registry::IMAGE_MODELS;

/// The name shown for a Part 1 row, a Part 2 run or a Part 2 model; an unknown name as it is.
pub fn shown(id: &str) -> String {
    for m in IMAGE_MODELS {
        if id == m.row {
            return if m.imagenet.is_some() { format!("{} (ImageNet)", m.label) } else { m.label.to_string() };
        }
        if id.strip_prefix(m.row) == Some("_random") {
            return format!("{} (random init)", m.label);
        }
    }
    for m in MODELS {
        if id == m.name() {
            return m.label().to_string();
        }
        let (run, split) = id.strip_suffix("_random").map_or((id, ""), |r| (r, ", random split"));
        if let Some(s) = SOURCES.into_iter().find(|&s| part2::run_name(m, s) == run) {
            return format!("{} ({}{split})", m.label(), s.label());
        }
    }
    id.to_string()
}

/// The architecture of a Part 1 row, without its init: "ResNet18" for `resnet18` and
/// `resnet18_random`; an unknown name as it is.
pub fn architecture(id: &str) -> String {
    let base = id.strip_suffix("_random").unwrap_or(id);
    IMAGE_MODELS.iter().find(|m| m.row == base).map_or_else(|| id.to_string(), |m| m.label.to_string())
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn every_row_and_run_has_a_readable_name_and_unknown_names_pass_through() {
        let cases = [
            ("emotionnet_v1", "EmotionNetV1"),
            ("emotionnet_v3", "EmotionNetV3"),
            ("resnet18", "ResNet18 (ImageNet)"),
            ("resnet18_random", "ResNet18 (random init)"),
            ("mobilenet_v2", "MobileNetV2 (ImageNet)"),
            ("mobilenet_v2_random", "MobileNetV2 (random init)"),
            ("minilm", "MiniLM"),
            ("minilm_drugscom", "MiniLM (Drugs.com)"),
            ("bilstm_imdb", "BiLSTM (IMDB)"),
            ("bilstm_druglib", "BiLSTM (Druglib)"),
            ("minilm_drugscom_random", "MiniLM (Drugs.com, random split)"),
            ("resnet18_randomx", "resnet18_randomx"),
            ("something_else", "something_else"),
        ];
        for (id, want) in cases {
            assert_eq!(shown(id), want, "{id}");
        }
        assert_eq!(super::architecture("mobilenet_v2_random"), "MobileNetV2");
        assert_eq!(super::architecture("resnet18"), "ResNet18");
        for m in crate::models::registry::IMAGE_MODELS {
            assert!(!shown(m.row).contains('_'), "{}", m.row);
        }
        for n in crate::experiments::part2::row_names() {
            assert!(!shown(&n).contains('_'), "{n}");
        }
    }
}
