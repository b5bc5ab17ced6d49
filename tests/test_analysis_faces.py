"""Several faces in the frame: the analysis follows the character's face (the one most like the
reference), not the largest. The six people of insightface's ``data/images/t1.jpg`` are set in a
3x2 grid, the reference person drawn smaller than the others."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lpmbench import media
from lpmbench.analysis import AnalysisConfig, Analyzer
from lpmbench.case import Case, Character

# the six faces of t1.jpg (dlib HOG boxes at upsample 1, x0 y0 x1 y1)
T1_FACES = ((67, 283, 175, 390), (275, 176, 364, 265), (454, 297, 583, 426), (724, 367, 832, 474),
            (870, 67, 999, 196), (1118, 283, 1226, 390))
CELL, SMALL = 256, 190  # grid cell (px) and the side the reference person is drawn at
CROP = 1.7  # crop side / face box side


def _t1() -> np.ndarray:
    spec = importlib.util.find_spec("insightface")
    if spec is None:
        pytest.skip("insightface is not installed (pip install --no-deps insightface): no t1.jpg")
    return media.load_image(Path(list(spec.submodule_search_locations)[0]) / "data" / "images" / "t1.jpg")


def _crop(img: np.ndarray, box, side: int) -> np.ndarray:
    import cv2

    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = CROP * (box[2] - box[0]) / 2
    m = np.array([[side / (2 * half), 0, side / 2 - cx * side / (2 * half)],
                  [0, side / (2 * half), side / 2 - cy * side / (2 * half)]])
    return cv2.warpAffine(img, m, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def _grid(img: np.ndarray, small: int) -> np.ndarray:
    """768x512: face i in cell (i % 3, i // 3); face ``small`` drawn SMALL px, centred, the others CELL."""
    canvas = np.full((2 * CELL, 3 * CELL, 3), 90, np.uint8)
    for i, box in enumerate(T1_FACES):
        side = SMALL if i == small else CELL
        x0, y0 = (i % 3) * CELL + (CELL - side) // 2, (i // 3) * CELL + (CELL - side) // 2
        canvas[y0 : y0 + side, x0 : x0 + side] = _crop(img, box, side)
    return canvas


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from PIL import Image

    tmp = tmp_path_factory.mktemp("faces")
    img = _t1()
    small = 0
    frame = _grid(img, small)
    video = tmp / "six.mp4"
    rng = np.random.default_rng(0)
    with media.VideoWriter(video, 25, frame.shape[1], frame.shape[0]) as w:
        for _ in range(40):  # 1.6 s; a little sensor noise so frames are not identical
            w.write(np.clip(frame.astype(np.int16) + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8))
    refs = {}
    for i in (small, 4):  # a photo of the small person, and of another one: mirrored and brighter
        refs[i] = tmp / f"ref{i}.png"
        photo = np.fliplr(_crop(img, T1_FACES[i], 300)).astype(np.float32) * 1.1 + 8
        Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(refs[i])
    return video, refs, small


def _case(ref: Path) -> Case:
    return Case(id="six", mode="silence", character=Character("p", "photoreal", (ref,)), duration=1.6, fps=25.0,
                width=768, height=512)


def _cell(box: np.ndarray) -> int:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return int(cx // CELL) + 3 * int(cy // CELL)


def test_the_track_follows_the_reference_person_not_the_largest_face(scene):
    video, refs, small = scene
    with Analyzer(AnalysisConfig(embed_workers=1)) as an:
        f = an.run(video, _case(refs[small]))
        g = an.run(video, _case(refs[4]))
    assert f["face_present"].mean() > 0.95
    cells = [_cell(b) for b in f["face_box_px"][f["face_present"]]]
    assert cells.count(small) / len(cells) > 0.95, cells
    assert f.meta["faces_max"] == 6 and f.meta["face_choice"].startswith("the face most like the reference")
    assert any("up to 6 faces" in w for w in f.meta["warnings"])
    assert (f["embeddings"] @ f["ref_embedding"]).mean() > 0.85
    # the same video against a photo of another person: the track follows that one instead
    other = [_cell(b) for b in g["face_box_px"][g["face_present"]]]
    assert other.count(4) / len(other) > 0.95, other


def test_without_a_reference_face_the_largest_is_followed(scene, tmp_path):
    from PIL import Image

    video, _, small = scene
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((256, 256, 3), 200, np.uint8)).save(blank)
    with Analyzer(AnalysisConfig(embed_workers=1)) as an:
        f = an.run(video, _case(blank))
    cells = {_cell(b) for b in f["face_box_px"][f["face_present"]]}
    assert small not in cells  # one of the larger faces
    assert f.meta["face_choice"] == "the largest face (the reference images show none)"
