"""Shot-cut detection and burst windows on real footage (bikes.mp4) and on a spliced video."""
import cv2
import numpy as np
import pytest

from burstdeblur.export.data.sources import fetch
from burstdeblur.export.data.video_bursts import Shot, burst_windows, cut_scores, detect_cuts, read_windows, video_shots
from burstdeblur.runtime.burst.burst_input import load_video
from burstdeblur.runtime.burst.demo_burst import make_demo_burst
from burstdeblur.runtime.errors import BurstError

BIKES_CUTS = [30, 76, 137, 187, 242]  # shared/data-sources.md, checked by eye


@pytest.fixture(scope="module")
def bikes():
    return fetch("bikes/bikes.mp4")


def test_bikes_cuts_found_exactly(bikes):
    shots, total = video_shots(bikes)
    assert total == 250
    assert [s.start for s in shots[1:]] == BIKES_CUTS


def write_video(path, frames):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (frames.shape[2], frames.shape[1]))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()


def test_splice_of_two_handheld_bursts_has_one_cut(tmp_path):
    a = make_demo_burst(n=12, seed=1, image="coffee.png").frames
    b = make_demo_burst(n=10, seed=2, image="chelsea.png").frames
    b = np.stack([cv2.resize(f, (a.shape[2], a.shape[1])) for f in b])
    path = tmp_path / "spliced.avi"
    write_video(path, np.concatenate([a, b]))
    assert detect_cuts(cut_scores(path)) == [12]


def test_windows_never_span_a_cut():
    shots = [Shot(0, 30), Shot(30, 33), Shot(33, 50)]
    windows = burst_windows(shots, 5, end=45)
    assert windows  # the short shot (3 frames) has none
    for k, start in windows:
        assert shots[k].start <= start and start + 5 <= min(shots[k].end, 45)
    assert not [w for w in windows if w[0] == 1]
    assert len(windows) == (30 - 5 + 1) + (45 - 33 - 5 + 1)


def test_read_windows_matches_runtime_loader(bikes):
    got = read_windows(bikes, [3, 5, 120], 4)
    for start in (3, 5, 120):
        assert np.array_equal(got[start], load_video(bikes, start, 4).frames)


def test_window_past_the_end(bikes):
    with pytest.raises(BurstError, match="video has only 250 frames"):
        read_windows(bikes, [248], 5)
