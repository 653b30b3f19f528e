use super::*;

#[test]
fn grouping_merges_neighbours_and_drops_lonely_hits() {
    let b = |x, y, w| FaceBox { x, y, w, h: w };
    let hits = [b(10, 10, 40), b(12, 10, 40), b(10, 12, 42), b(11, 11, 40), b(200, 50, 30)];
    assert_eq!(group(&hits, 3, 0.2), vec![b(11, 11, 41)]);
    assert_eq!(group(&hits, 0, 0.2).len(), 2);
    assert!(group(&hits, 4, 0.2).is_empty());
}

#[test]
fn malformed_cascades_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.xml");
    std::fs::write(&p, "<opencv_storage><cascade><featureType>LBP</featureType></cascade></opencv_storage>").unwrap();
    let err = Cascade::load(&p).unwrap_err().to_string();
    assert!(err.contains("c.xml") && err.contains("only HAAR"), "{err}");
    std::fs::write(&p, "<opencv_storage><cascade>").unwrap();
    assert!(Cascade::load(&p).unwrap_err().to_string().contains("not XML"));
    let one_stage = |rect: &str| {
        format!(
            "<opencv_storage><cascade><featureType>HAAR</featureType><width>4</width><height>4</height><stages><_><stageThreshold>0</stageThreshold>\
             <weakClassifiers><_><internalNodes>0 -1 0 0.5</internalNodes><leafValues>-1 1</leafValues></_></weakClassifiers></_></stages>\
             <features><_><rects><_>{rect}</_></rects></_></features></cascade></opencv_storage>"
        )
    };
    std::fs::write(&p, one_stage("0 0 9 2 1.")).unwrap();
    assert!(Cascade::load(&p).unwrap_err().to_string().contains("inside the window"));
    std::fs::write(&p, one_stage("1 1 2 2 1.")).unwrap();
    let c = Cascade::load(&p).unwrap();
    assert_eq!((c.width, c.stages.len(), c.features.len()), (4, 1, 1));
}

/// Test faces of the data set, each pasted into a larger grey "photo": the same faces found
/// as OpenCV 4's `detectMultiScale` finds (tests/fixtures/haar_opencv_boxes.json, made by
/// scripts/parity/haar_reference.py from the photos this test saves), boxes within a few
/// pixels; a featureless image has none.
#[test]
fn matches_opencv_on_pasted_faces() {
    let Ok(path) = Cascade::find() else {
        panic!("OpenCV's cascade is needed: apt-get install opencv-data (scripts/setup.sh does)");
    };
    let cascade = Cascade::load(&path).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/haar_opencv_boxes.json")).unwrap();
    let faces = crate::testing::require(crate::config::paths::FACES);
    let set = crate::trained::eval_data::load_faces(&faces, false).unwrap();
    let picks: Vec<_> = set.items.iter().step_by(set.items.len() / 20).take(20).collect();
    let mut with_face = 0;
    for item in &picks {
        let face = image::imageops::grayscale(&crate::data::faces::decode(&item.path).unwrap());
        let face = image::imageops::resize(&face, 110, 110, image::imageops::FilterType::Triangle);
        let mut photo = GrayImage::from_pixel(320, 200, image::Luma([128]));
        image::imageops::replace(&mut photo, &face, 150, 45);
        let stem = item.path.file_stem().unwrap().to_string_lossy().into_owned();
        if let Ok(dir) = std::env::var("AFFECT_LAB_PLOT_DIR") {
            photo.save(Path::new(&dir).join(format!("detect_{stem}.png"))).unwrap();
        }
        let ours = cascade.detect(&photo, DetectOptions::default());
        let theirs: Vec<Vec<i64>> = serde_json::from_value(fixture["boxes"][&stem].clone())
            .unwrap_or_else(|_| panic!("{stem} not in the fixture"));
        assert_eq!(ours.len(), theirs.len(), "{stem}: ours {ours:?}, OpenCV {theirs:?}");
        for (a, b) in ours.iter().zip(&theirs) {
            let tol = (b[2] / 10).max(6);
            let close = [a.x as i64 - b[0], a.y as i64 - b[1], a.w as i64 - b[2], a.h as i64 - b[3]]
                .iter()
                .all(|d| d.abs() <= tol);
            assert!(close, "{stem}: ours {a:?}, OpenCV {b:?}");
        }
        with_face += !ours.is_empty() as usize;
    }
    assert!(with_face >= 10, "only {with_face} of 20 faces found");
    assert!(cascade.detect(&GrayImage::from_pixel(300, 200, image::Luma([90])), DetectOptions::default()).is_empty());
}
