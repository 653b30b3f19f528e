#!/usr/bin/env python3
"""OpenCV's own detections on the photos the face-detector parity test builds, as a fixture.

The test `trained::detect::tests::matches_opencv_on_pasted_faces` pastes 20 test faces of the data
root into grey photos; with AFFECT_LAB_PLOT_DIR set it saves them as detect_<stem>.png. This script
runs cv2.CascadeClassifier (opencv-python-headless < 5; 5.x moved the cascades out) with the same
settings as `DetectOptions::default()` on each and writes the boxes to
tests/fixtures/haar_opencv_boxes.json. OpenCV is needed only to make the fixture, not to test.

    AFFECT_LAB_PLOT_DIR=/tmp/det cargo test --lib -- trained::detect
    python scripts/parity/haar_reference.py /tmp/det
"""
import glob, json, os, sys
import cv2

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
src = sys.argv[1]
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "haar_opencv_boxes.json")
c = cv2.CascadeClassifier(CASCADE)
boxes = {}
for f in sorted(glob.glob(os.path.join(src, "detect_*.png"))):
    g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
    found = c.detectMultiScale(g, scaleFactor=1.1, minNeighbors=3, minSize=(24, 24))
    boxes[os.path.basename(f)[len("detect_"):-len(".png")]] = [[int(v) for v in b] for b in found]
doc = {"opencv": cv2.__version__, "cascade": os.path.basename(CASCADE), "scale_factor": 1.1, "min_neighbors": 3, "min_size": 24, "boxes": boxes}
with open(out, "w") as fh:
    json.dump(doc, fh, indent=1)
print(f"{len(boxes)} photos, {sum(len(b) > 0 for b in boxes.values())} with a face -> {os.path.normpath(out)}")
